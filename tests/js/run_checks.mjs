// Runs named async checks in order and prints one line each, "ok <name>" or
// "FAIL <name>: <why>" (what tests/test_sdk_js.py reads); exits 1 if any failed.
export async function runChecks(checks) {
  let failed = 0;
  for (const [name, check] of Object.entries(checks)) {
    try {
      await check();
      console.log(`ok ${name}`);
    } catch (err) {
      failed += 1;
      const detail = err?.message || JSON.stringify(err);
      console.log(`FAIL ${name}: ${String(detail).replace(/\s+/g, " ").slice(0, 500)}`);
    }
  }
  process.exit(failed ? 1 : 0);
}
