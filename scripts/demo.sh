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


# ---------------------------------------------------------------------
# Collector (issue 4): generate six months of demo billing data, collect
# it with the bundled samples into a local cost store, twice (the second
# run changes nothing), and show the store.
# ---------------------------------------------------------------------
collect_cfg=testdata/demo/collect.yaml
echo
echo "=== generate demo billing data: 6 months, multi-team, multi-account FOCUS (CSV.gz per month)"
rm -rf "$out/billing" "$out/store"
go run ./internal/billgen/cmd/genbill -seed 1 -rows 50000 -months 6 -dir "$out/billing" || status=1

echo
echo "=== costgate collect --config $collect_cfg"
"$bin" collect --config "$collect_cfg" || status=1

echo
echo "=== costgate collect again: nothing is counted twice"
"$bin" collect --config "$collect_cfg" --log-level warn --no-progress || status=1

echo
echo "=== GCP: collect the Cloud Billing export from BigQuery (a loopback BigQuery API serving a generated detailed export)"
bqdemo_log="$out/bqdemo.log"
go build -o "$out/bqdemo" ./internal/bqtest/cmd/bqdemo || status=1
"$out/bqdemo" >"$out/bqdemo.url" 2>"$bqdemo_log" &
bqdemo_pid=$!
for _ in $(seq 100); do [ -s "$out/bqdemo.url" ] && break; sleep 0.1; done
cat >"$out/gcp.yaml" <<YAML
store: $out/store
sources:
  - {name: gcp-billing, type: gcp_bigquery, project: acme-billing, dataset: billing_export, table: gcp_billing_export_resource_v1_01A2B3_C4D5E6_F7A8B9, endpoint: $(head -1 "$out/bqdemo.url")}
YAML
"$bin" collect --config "$out/gcp.yaml" --no-progress || status=1
echo
echo "=== collect again: only a summary query runs, nothing is read twice"
"$bin" collect --config "$out/gcp.yaml" --no-progress || status=1
kill "$bqdemo_pid" 2>/dev/null
echo
echo "=== the store now holds both clouds: spend by provider and month"
"$bin" cost --config "$out/gcp.yaml" --by ProviderName,month --measure BilledCost || status=1

if "$bin" store info --help >/dev/null 2>&1; then
  echo
  echo "=== costgate store info"
  "$bin" store info --store "$out/store" || status=1
fi

echo
echo "=== costgate estimate: what a sample plan will cost (embedded price snapshot)"
"$bin" estimate testdata/demo/plan-payments.json || status=1

echo
echo "=== the gate with cost rules: budgets, an expensive-resource threshold, unpriced warnings"
"$bin" check --config testdata/demo/cost.yaml --store "$out/store" testdata/demo/plan-payments.json
rc=$?
case $rc in 0|1) echo "--> exit $rc" ;; *) echo "--> exit $rc: error"; status=1 ;; esac

echo
echo "=== a sample monthly cost report"
./scripts/demo-report.sh || status=1
echo
echo "Pull-request comments, SARIF files, the store and the sample report (report/report.html) are in $out/."
exit $status
