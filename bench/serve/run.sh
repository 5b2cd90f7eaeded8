#!/usr/bin/env bash
# run.sh: the loopback load test of `costgate serve` against OPA's own
# server on a 100-resource plan (see main.go). Builds what it needs:
#
#   bin/costgate                      make build (or COSTGATE_BIN)
#   genplan                           from internal/plangen, into the work dir
#   opa                               go install github.com/open-policy-agent/opa@VERSION
#                                     into ${COSTGATE_TOOLS:-~/.cache/costgate-tools}/opa
#                                     (outside the repository; a few minutes the first time)
#
#   bench/serve/run.sh                          # 20,000 requests per server, 50 clients
#   bench/serve/run.sh -n 100000 -strict        # the issue's 100k-request memory check
#
# Arguments are passed to the Go program (-n, -c, -duration, -strict,
# -decision-log, ...). Loopback only; every run is bounded by -n and
# -duration per server.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOOLS=${COSTGATE_TOOLS:-$HOME/.cache/costgate-tools}
cd "$ROOT"
OPA_VERSION=${OPA_VERSION:-$(go list -m -f '{{.Version}}' github.com/open-policy-agent/opa)}
OPA=${OPA:-$TOOLS/opa/$OPA_VERSION/opa}
if [ ! -x "$OPA" ]; then
	echo "run.sh: building opa $OPA_VERSION into $(dirname "$OPA")" >&2
	mkdir -p "$(dirname "$OPA")"
	(cd "$(mktemp -d)" && GOBIN=$(dirname "$OPA") GOFLAGS=-buildvcs=false go install "github.com/open-policy-agent/opa@$OPA_VERSION")
fi
COSTGATE=${COSTGATE_BIN:-}
if [ -z "$COSTGATE" ]; then
	make -s build
	COSTGATE=$ROOT/bin/costgate
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/costgate-bench-serve.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
go run ./internal/plangen/cmd/genplan -n 100 -seed 1 -untagged 10 -o "$WORK/plan.json"
# The policy OPA evaluates: the same required-tags rule as costgate's
# tags.required with tags.required: [team, cost-center] (it is the one
# bench/gate-vs-conftest.sh gives conftest).
sed -n "/^cat >\"\$WORK\/policy\/tags.rego\" <<'EOF'$/,/^EOF$/p" bench/gate-vs-conftest.sh | sed '1d;$d' >"$WORK/tags.rego"
cd bench
go run ./serve -costgate "$COSTGATE" -opa "$OPA" -plan "$WORK/plan.json" -policy "$WORK/tags.rego" \
	-review "$ROOT/testdata/admission/ar_v1_deployment_create.json" "$@"
