#!/usr/bin/env bash
# make demo: a sample monthly cost report from demo billing data.
# Fills demo-out/report-store with 13 months of generated FOCUS line items
# (internal/reportdemo), a decision log of gate decisions (priced plans
# among them, with per-resource estimates) and the Terraform state and
# tagging inventories that match those estimates with billing, then writes
# the October 2026 company report and the payments team's report as it
# would have been built on 2 November 2026: the gate section compares the
# estimates with the bill.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${COSTGATE_BIN:-bin/costgate}
cfg=testdata/reports/demo.yaml
out=demo-out/report
if [ ! -x "$bin" ]; then
  go build -o "$bin" ./cmd/costgate
fi
mkdir -p demo-out
go run ./internal/reportdemo/cmd/reportdemo -store demo-out/report-store -decisions demo-out/report-decisions.db
"$bin" report --config "$cfg" --month 2026-10 --now 2026-11-02T08:00:00Z --out "$out"
"$bin" report --config "$cfg" --month 2026-10 --now 2026-11-02T08:00:00Z --team payments --out "$out/team-payments"
echo "The sample report is $out/report.html (text: $out/report.txt, figures: $out/report.csv)."
