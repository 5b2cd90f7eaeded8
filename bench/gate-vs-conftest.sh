#!/usr/bin/env bash
# gate-vs-conftest.sh: time `costgate check` against conftest on the same
# synthetic Terraform plans with the same required-tags policy, and check
# both find the same violations.
#
#   bench/gate-vs-conftest.sh                  # 1,000 and 10,000 resources, 5 runs each
#   bench/gate-vs-conftest.sh --runs 9 --sizes 10000
#   bench/gate-vs-conftest.sh --conftest-only  # before `costgate check` exists
#
# costgate runs with --no-cost: conftest's policy estimates nothing, so the
# equivalent costgate run skips the cost estimate too (its own overhead is
# measured by `go test ./cmd/costgate -bench Estimate`).
#
# Prints, per plan size, the median wall time (s) and peak RSS (MB) of each
# tool (the runs taken in turns: conftest, costgate, conftest, ...) and the
# ratios costgate/conftest. The issue's targets are at most
# 0.2x conftest's wall time and 0.5x its peak memory on the 10,000-resource
# plan; --strict makes missing them an error.
#
# conftest is installed with `go install` into ${COSTGATE_TOOLS:-~/.cache/costgate-tools}/conftest
# (outside the repository; the first install takes a few minutes), unless
# CONFTEST names a binary. COSTGATE_BIN names a costgate binary to use
# instead of building bin/costgate with `make build`.
#
# Exit status: 0 ok, 1 the tools disagree on the violations (or --strict
# and a target was missed), 2 usage or setup error.
set -euo pipefail

usage() {
	awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
	exit "${1:-2}"
}

RUNS=5
SIZES="1000 10000"
SEED=1
UNTAGGED=10
CONFTEST_ONLY=0
STRICT=0
KEEP=0
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) RUNS=$2; shift 2 ;;
	--sizes) SIZES=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--untagged) UNTAGGED=$2; shift 2 ;;
	--conftest-only) CONFTEST_ONLY=1; shift ;;
	--strict) STRICT=1; shift ;;
	--keep) KEEP=1; shift ;;
	-h | --help) usage 0 ;;
	*) echo "gate-vs-conftest: unknown argument $1" >&2; usage ;;
	esac
done
case "$RUNS" in '' | *[!0-9]* | 0) echo "gate-vs-conftest: --runs wants a positive number" >&2; exit 2 ;; esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${COSTGATE_TOOLS:-$HOME/.cache/costgate-tools}
CONFTEST=${CONFTEST:-$TOOLS/conftest/conftest}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/costgate-bench.XXXXXX")
if [ "$KEEP" = 1 ]; then
	echo "work dir: $WORK (kept)"
else
	trap 'rm -rf "$WORK"' EXIT
fi

log() { echo "==> $*" >&2; }
die() { echo "gate-vs-conftest: $*" >&2; exit 2; }

# --- tools -------------------------------------------------------------------

TIME=/usr/bin/time
if [ ! -x "$TIME" ]; then
	log "installing GNU time (apt-get install time)"
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get install -y -qq time >/dev/null || die "need GNU time at /usr/bin/time"
fi

if [ ! -x "$CONFTEST" ]; then
	log "installing conftest into $TOOLS/conftest (go install, takes a few minutes)"
	mkdir -p "$TOOLS/conftest"
	GOBIN=$TOOLS/conftest go install github.com/open-policy-agent/conftest@latest ||
		die "go install conftest failed"
fi

if command -v jq >/dev/null; then
	JSON=jq
elif command -v python3 >/dev/null; then
	JSON=python3
else
	die "need jq or python3 to read JSON results"
fi

cd "$ROOT"
log "building genplan"
go build -o "$WORK/genplan" ./internal/plangen/cmd/genplan
COSTGATE=${COSTGATE_BIN:-}
if [ "$CONFTEST_ONLY" = 0 ] && [ -z "$COSTGATE" ]; then
	log "building bin/costgate (make build)"
	make -s build >&2
	COSTGATE=$ROOT/bin/costgate
fi

# --- equivalent policies -----------------------------------------------------

# The costgate side: the default library's tags.required rule.
cat >"$WORK/costgate.yaml" <<'EOF'
tags:
  required: [team, cost-center]
EOF

# The conftest side: the same rule by hand. A resource is judged when it is
# managed, its actions include create or update (a replace includes create),
# it is taggable (tags/tags_all, or Google labels/effective_labels, in
# change.after or after_unknown) and its own tags are not wholly unknown.
# Effective tags are tags_all (Google: effective_labels) when known, else
# tags (labels); a missing or empty value is a violation, a value unknown
# until apply (null) is not.
mkdir -p "$WORK/policy"
cat >"$WORK/policy/tags.rego" <<'EOF'
package main

import rego.v1

required_tags := ["team", "cost-center"]

tag_attrs(type) := ["effective_labels", "labels"] if startswith(type, "google_")

else := ["tags_all", "tags"]

taggable(rc) if {
	some attr in tag_attrs(rc.type)
	attr in object.keys(rc.change.after)
}

taggable(rc) if {
	some attr in tag_attrs(rc.type)
	attr in object.keys(object.get(rc.change, "after_unknown", {}))
}

own_tags_unknown(rc) if {
	[_, own] := tag_attrs(rc.type)
	rc.change.after_unknown[own] == true
}

effective_tags(rc) := tags if {
	[all, _] := tag_attrs(rc.type)
	tags := rc.change.after[all]
	is_object(tags)
} else := tags if {
	[_, own] := tag_attrs(rc.type)
	tags := rc.change.after[own]
	is_object(tags)
} else := {}

missing(tags, key) if not key in object.keys(tags)

missing(tags, key) if tags[key] == ""

deny contains msg if {
	some rc in input.resource_changes
	rc.mode == "managed"
	some action in rc.change.actions
	action in {"create", "update"}
	is_object(rc.change.after)
	taggable(rc)
	not own_tags_unknown(rc)
	tags := effective_tags(rc)
	some key in required_tags
	missing(tags, key)
	msg := sprintf("%s: missing required tag %q", [rc.address, key])
}
EOF

# --- helpers -----------------------------------------------------------------

# count_conftest FILE: violations and distinct addresses in conftest's JSON output.
count_conftest() {
	if [ "$JSON" = jq ]; then
		jq -r '[.[].failures // [] | .[].msg] | "\(length) \(map(split(": ")[0]) | unique | length)"' "$1"
	else
		python3 -c 'import json,sys
m=[f["msg"] for r in json.load(open(sys.argv[1])) for f in (r.get("failures") or [])]
print(len(m), len({x.split(": ")[0] for x in m}))' "$1"
	fi
}

# count_costgate FILE: tags.required findings (not waived) and distinct addresses.
count_costgate() {
	if [ "$JSON" = jq ]; then
		jq -r '[.findings // [] | .[] | select(.rule_id == "tags.required" and (.waived | not))] | "\(length) \(map(.address) | unique | length)"' "$1"
	else
		python3 -c 'import json,sys
f=[x for x in (json.load(open(sys.argv[1])).get("findings") or []) if x.get("rule_id")=="tags.required" and not x.get("waived")]
print(len(f), len({x.get("address") for x in f}))' "$1"
	fi
}

# run_once NAME OUT CMD...: runs CMD once under GNU time; sets WALL (s)
# and RSS (KB). Exit 0 (allowed) and 1 (denied) are results; anything
# else is an error.
run_once() {
	local name=$1 out=$2 rc
	shift 2
	set +e
	"$TIME" -f '%e %M' -o "$WORK/time.txt" "$@" >"$out" 2>"$WORK/stderr.txt"
	rc=$?
	set -e
	if [ "$rc" -gt 1 ]; then
		echo "gate-vs-conftest: $name exited $rc:" >&2
		tail -n 20 "$WORK/stderr.txt" >&2
		exit 2
	fi
	# GNU time writes "Command exited with non-zero status N" first.
	read -r WALL RSS < <(tail -n 1 "$WORK/time.txt")
}

median() {
	printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b>0) printf "%.3f", a/b; else print "n/a" }'; }

# --- run ---------------------------------------------------------------------

echo "costgate vs conftest: $RUNS runs per tool (median), plans from genplan -seed $SEED -untagged $UNTAGGED"
echo "host: $(nproc) CPUs, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo 2>/dev/null || uname -m); $(go version | cut -d' ' -f3); $("$CONFTEST" --version 2>/dev/null | paste -sd' ' -)"
status=0
for n in $SIZES; do
	plan=$WORK/plan-$n.json
	"$WORK/genplan" -n "$n" -seed "$SEED" -untagged "$UNTAGGED" -o "$plan"
	size=$(awk -v b="$(wc -c <"$plan")" 'BEGIN{printf "%.1f", b/1e6}')
	echo
	echo "plan: $n resource changes, $size MB"

	# The tools take turns (conftest, costgate, conftest, ...) after one
	# untimed warm-up run each, so a machine that speeds up or slows down
	# during the measurement affects both alike.
	log "conftest test and costgate check ($n), $RUNS runs each, in turns"
	cf_walls="" cf_rsss="" cg_walls="" cg_rsss=""
	for i in $(seq 0 "$RUNS"); do
		run_once conftest "$WORK/conftest-$n.json" \
			"$CONFTEST" test --no-color --output json --policy "$WORK/policy" "$plan"
		[ "$i" = 0 ] || { cf_walls="$cf_walls $WALL"; cf_rsss="$cf_rsss $RSS"; }
		[ "$i" = 0 ] || printf '    conftest run %d: %6.2f s %7.1f MB\n' "$i" "$WALL" "$(awk -v k="$RSS" 'BEGIN{print k/1024}')" >&2
		[ "$CONFTEST_ONLY" = 1 ] && continue
		run_once costgate "$WORK/costgate-$n.json" \
			"$COSTGATE" check --no-cost --config "$WORK/costgate.yaml" --format json "$plan"
		[ "$i" = 0 ] || { cg_walls="$cg_walls $WALL"; cg_rsss="$cg_rsss $RSS"; }
		[ "$i" = 0 ] || printf '    costgate run %d: %6.2f s %7.1f MB\n' "$i" "$WALL" "$(awk -v k="$RSS" 'BEGIN{print k/1024}')" >&2
	done
	# shellcheck disable=SC2086 # word splitting of the lists is meant
	cf_wall=$(median $cf_walls) cf_rss=$(awk -v k="$(median $cf_rsss)" 'BEGIN{printf "%.1f", k/1024}')
	read -r cf_findings cf_addrs < <(count_conftest "$WORK/conftest-$n.json")
	printf '  %-9s %8.2f s %9.1f MB   %6d violations on %6d resources\n' conftest "$cf_wall" "$cf_rss" "$cf_findings" "$cf_addrs"

	if [ "$CONFTEST_ONLY" = 1 ]; then
		continue
	fi

	# shellcheck disable=SC2086
	cg_wall=$(median $cg_walls) cg_rss=$(awk -v k="$(median $cg_rsss)" 'BEGIN{printf "%.1f", k/1024}')
	read -r cg_findings cg_addrs < <(count_costgate "$WORK/costgate-$n.json")
	printf '  %-9s %8.2f s %9.1f MB   %6d violations on %6d resources\n' costgate "$cg_wall" "$cg_rss" "$cg_findings" "$cg_addrs"

	wall_ratio=$(ratio "$cg_wall" "$cf_wall")
	rss_ratio=$(ratio "$cg_rss" "$cf_rss")
	printf '  ratio costgate/conftest: wall %sx, peak RSS %sx\n' "$wall_ratio" "$rss_ratio"

	if [ "$cg_findings" != "$cf_findings" ] || [ "$cg_addrs" != "$cf_addrs" ]; then
		echo "  MISMATCH: conftest found $cf_findings violations on $cf_addrs resources, costgate $cg_findings on $cg_addrs" >&2
		status=1
	else
		echo "  same violations: $cg_findings"
	fi
	if [ "$n" = 10000 ]; then
		if awk -v w="$wall_ratio" -v r="$rss_ratio" 'BEGIN{exit !(w<=0.2 && r<=0.5)}'; then
			echo "  targets (wall <= 0.2x, RSS <= 0.5x): met"
		else
			echo "  targets (wall <= 0.2x, RSS <= 0.5x): MISSED"
			[ "$STRICT" = 1 ] && status=1
		fi
	fi
done
exit "$status"
