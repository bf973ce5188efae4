#!/usr/bin/env bash
# Runs every workspace's tests one after the other (they share the broker, the modems and two
# cores), then prints the total as one line: "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
rm -f */.test-results.json test/peers/.test-results.json packages/*/.test-results.json services/*/.test-results.json
npx turbo run test --concurrency=1 --continue "$@"
rc=$?
node -e '
const fs = require("fs");
const files = ["contracts", "test", "test/peers", ...["packages", "services"].flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d).map((s) => d + "/" + s) : []))].map((d) => d + "/.test-results.json").filter((f) => fs.existsSync(f));
let passed = 0, failed = 0, skipped = 0;
for (const f of files) { const r = JSON.parse(fs.readFileSync(f, "utf8")); passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + (r.numTodoTests || 0); }
console.log(`\n${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
'
exit $rc
