#!/bin/sh
# pre-apply-hook.sh: gate a saved Terraform plan with costgate before it is
# applied. Run it in the Terraform directory:
#
#   terraform plan -out tfplan
#   ./pre-apply-hook.sh tfplan && terraform apply tfplan
#
# Exit codes (costgate's own, passed through):
#   0  allowed: no deny findings (warnings are printed but allowed, unless
#      COSTGATE_FAIL_ON_WARN=1). Apply may go ahead.
#   1  denied: at least one deny finding that no valid waiver covers. Fix
#      the resources (the text output names each one and its file:line) or
#      add a waiver to costgate.yaml; do not apply.
#   2  could not judge: bad flags, unreadable plan or config, a policy that
#      does not compile, or `terraform show` failed. Nothing was evaluated;
#      do not apply.
#
# Environment: COSTGATE (binary, default costgate), COSTGATE_CONFIG (default
# ./costgate.yaml when present), COSTGATE_POLICY (an extra policy
# directory), COSTGATE_FAIL_ON_WARN=1, TERRAFORM (default terraform; tofu
# works too).
set -u

PLANFILE=${1:-tfplan}
COSTGATE=${COSTGATE:-costgate}
TERRAFORM=${TERRAFORM:-terraform}
CONFIG=${COSTGATE_CONFIG:-costgate.yaml}

if [ ! -f "$PLANFILE" ]; then
	echo "pre-apply-hook: no plan file $PLANFILE; run: $TERRAFORM plan -out $PLANFILE" >&2
	exit 2
fi

json=$(mktemp "${TMPDIR:-/tmp}/costgate-plan.XXXXXX") || exit 2
trap 'rm -f "$json"' EXIT INT TERM
if ! "$TERRAFORM" show -json "$PLANFILE" >"$json"; then
	echo "pre-apply-hook: $TERRAFORM show -json $PLANFILE failed" >&2
	exit 2
fi

set -- "$json" --tf-dir . --format text --context stage=pre-apply
if [ -f "$CONFIG" ]; then
	set -- "$@" --config "$CONFIG"
elif [ -n "${COSTGATE_CONFIG:-}" ]; then
	echo "pre-apply-hook: config $CONFIG not found" >&2
	exit 2
fi
[ -n "${COSTGATE_POLICY:-}" ] && set -- "$@" --policy "$COSTGATE_POLICY"
[ "${COSTGATE_FAIL_ON_WARN:-0}" = 1 ] && set -- "$@" --fail-on-warn

"$COSTGATE" check "$@"
code=$?
case $code in
0) echo "pre-apply-hook: costgate allowed the plan" >&2 ;;
1) echo "pre-apply-hook: costgate denied the plan; not applying" >&2 ;;
*) echo "pre-apply-hook: costgate could not check the plan (exit $code); not applying" >&2 ;;
esac
exit "$code"
