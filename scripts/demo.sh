#!/usr/bin/env bash
# make demo: check bundled sample plans with the default policies and the
# demo config, and print each decision. No cloud account is needed.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=bin/costgate
cfg=testdata/demo/costgate.yaml
out=demo-out
mkdir -p "$out"

plans=(
  testdata/plans/aws_default_tags_aliased_provider_sqs_x20.json
  testdata/plans/aws_instance_lambda_s3.json
  testdata/plans/aws_tags_variety_asg_dynamodb.json
  testdata/plans/gcp_container_cluster_node_pool.json
  testdata/plans/edge_moved_block_random.json
)

status=0
for plan in "${plans[@]}"; do
  name=$(basename "$plan" .json)
  echo
  echo "=== costgate check $plan"
  "$bin" check --config "$cfg" "$plan"
  rc=$?
  case $rc in
    0) echo "--> exit 0: allowed" ;;
    1) echo "--> exit 1: denied (as a CI step would fail)" ;;
    *) echo "--> exit $rc: error"; status=1 ;;
  esac
  "$bin" check --config "$cfg" --format markdown --out "$out/$name.md" "$plan" >/dev/null
  "$bin" check --config "$cfg" --format sarif --out "$out/$name.sarif" "$plan" >/dev/null
done

echo
echo "=== a binary plan file is refused with a fix (exit 2)"
printf 'PK\003\004binary' > "$out/tfplan"
"$bin" check "$out/tfplan"
echo "--> exit $?"

echo
echo "=== the default policy library's own tests"
"$bin" policy test || status=1

echo
echo "Pull-request comments and SARIF files are in $out/."
exit $status
