#!/usr/bin/env bash
# make e2e: slow end-to-end tests against tools built from source, kept out
# of CI. Tools are built once into ${COSTGATE_TOOLS:-~/.cache/costgate-tools}
# (outside the repository), in a folder per version.
#
# What runs today:
#   - S3 with SigV4 checking: versitygw v1.8.0 (posix backend) on a loopback
#     port; `costgate collect` reads the FOCUS sample from it through the real
#     aws-sdk-go-v2 client with signed requests, and the totals must equal
#     those of collecting the same file from disk. A wrong secret key must be
#     refused.
#   - Kubernetes admission: kube-apiserver v1.37.2 and etcd v3.7 (built by
#     scripts/e2e-tools.sh kube) under controller-runtime's envtest, with
#     docs/kubernetes/validating-webhook.yaml registered against `costgate
#     serve` over TLS. A Deployment without the required labels is denied
#     with costgate's message, one with them is admitted, warnings reach the
#     client, dry runs are judged but leave nothing behind. The test is the
#     separate Go module e2e/kube (go test -tags e2e), so the Kubernetes
#     libraries stay out of costgate's go.mod.
#   - BigQuery: goccy/bigquery-emulator v0.6.6 (ZetaSQL; built by
#     scripts/e2e-tools.sh bigquery-emulator, 35-45 min the first time). The
#     standard and detailed Cloud Billing export tables are created
#     partitioned on export_time and filled through the real client's
#     streaming inserts; the gcp_bigquery source's SQL (UNNEST of credits,
#     nested labels, partition filters) runs on a real SQL engine, the store's
#     totals must equal the rows' exact totals, a second collect reads
#     nothing, and a restated month is the only partition read again
#     (collector/gcp/emulator_e2e_test.go, go test -tags e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
tools=${COSTGATE_TOOLS:-$HOME/.cache/costgate-tools}
work=$(mktemp -d "${TMPDIR:-/tmp}/costgate-e2e.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n=== %s\n' "$*"; }

make -s build
bin=$PWD/bin/costgate

# --- versitygw --------------------------------------------------------------
vgw_dir=$tools/versitygw-v1.8.0
if [ ! -x "$vgw_dir/versitygw" ]; then
	say "building versitygw v1.8.0 into $vgw_dir (once; a few minutes)"
	mkdir -p "$vgw_dir"
	GOBIN=$vgw_dir go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
fi
port=$((20000 + RANDOM % 20000))
export AWS_ACCESS_KEY_ID=costgatee2e AWS_SECRET_ACCESS_KEY=costgate-e2e-secret-key AWS_REGION=us-east-1
mkdir -p "$work/s3/billing/focus/2024-09"
cp testdata/billing/focus/focus_1.0_sample_1000_rows.csv "$work/s3/billing/focus/2024-09/"
say "versitygw on 127.0.0.1:$port"
ROOT_ACCESS_KEY=$AWS_ACCESS_KEY_ID ROOT_SECRET_KEY=$AWS_SECRET_ACCESS_KEY \
	"$vgw_dir/versitygw" --port "127.0.0.1:$port" posix "$work/s3" >"$work/versitygw.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
	sleep 0.2
done

cat >"$work/s3.yaml" <<YAML
store: $work/store-s3
sources:
  - {name: focus-s3, type: focus, path: s3://billing/focus, endpoint: http://127.0.0.1:$port, region: us-east-1}
YAML
cat >"$work/local.yaml" <<YAML
store: $work/store-local
sources:
  - {name: focus-s3, type: focus, path: testdata/billing/focus/focus_1.0_sample_1000_rows.csv}
YAML

say "collect from versitygw (SigV4-signed requests)"
"$bin" collect --config "$work/s3.yaml" --no-progress
say "collect the same file from disk"
"$bin" collect --config "$work/local.yaml" --no-progress

q() { "$bin" cost --config "$1" --by ServiceName,BillingAccountId,month --measure EffectiveCost,BilledCost --format csv; }
if ! diff <(q "$work/s3.yaml") <(q "$work/local.yaml") >"$work/diff.txt"; then
	cat "$work/diff.txt"
	echo "e2e: totals from S3 differ from totals from disk" >&2
	exit 1
fi
echo "totals by service, account and month: identical ($(q "$work/s3.yaml" | wc -l) rows)"

say "a wrong secret key is refused"
if AWS_SECRET_ACCESS_KEY=wrong-secret "$bin" collect --config "$work/s3.yaml" --no-progress --store "$work/store-bad" >"$work/bad.log" 2>&1; then
	echo "e2e: collect with a wrong secret key succeeded" >&2
	exit 1
fi
grep -iE "signature|access denied|forbidden|403" "$work/bad.log" | head -2

# --- kube-apiserver (envtest) -----------------------------------------------
kube_e2e() {
	local dir=$tools/envtest-k8s-v1.37.2
	if [ ! -x "$dir/kube-apiserver" ] || [ ! -x "$dir/etcd" ]; then
		say "building kube-apiserver v1.37.2 and etcd into $dir (once; 10-40 minutes)"
		COSTGATE_TOOLS=$tools scripts/e2e-tools.sh kube
	fi
	say "Kubernetes admission against kube-apiserver v1.37.2 (envtest)"
	(cd e2e/kube && COSTGATE_BIN=$bin COSTGATE_TOOLS=$tools go test -tags e2e -count=1 -v ./...)
}
kube_e2e

# --- BigQuery emulator -------------------------------------------------------
bigquery_e2e() {
	say "BigQuery: the Cloud Billing export in goccy/bigquery-emulator v0.6.6"
	COSTGATE_TOOLS=$tools scripts/e2e-tools.sh bigquery-emulator
	COSTGATE_TOOLS=$tools go test -tags e2e -count=1 -run TestEmulator -v ./collector/gcp/ 2>&1 | grep -v '^\[bigquery-emulator\]'
	return "${PIPESTATUS[0]}"
}
bigquery_e2e

echo
echo "e2e: all passed"
