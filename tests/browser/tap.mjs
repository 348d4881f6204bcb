// tap.mjs -- a tiny flat TAP harness: tests/run.sh counts "ok N - name" and
// "not ok N - name" lines, and node:test nests its output. Tests run one at a
// time, in order; a failure prints the error as TAP comments and the process
// exits 1 after the last test.
let tests = [];

export function test(name, fn) {
  tests.push({ name, fn });
}

export async function run({ setup, teardown } = {}) {
  let n = 0;
  let failed = 0;
  const report = (ok, name, err) => {
    n++;
    console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${name}`);
    if (err) {
      failed++;
      for (const line of String((err && err.stack) || err).split('\n')) console.log(`#   ${line}`);
    }
  };
  let ctx = null;
  try {
    if (setup) ctx = await setup();
  } catch (err) {
    report(false, 'setup', err);
    tests = [];
  }
  for (const t of tests) {
    try {
      await t.fn(ctx);
      report(true, t.name);
    } catch (err) {
      report(false, t.name, err);
    }
  }
  try {
    if (teardown) await teardown(ctx);
  } catch (err) {
    report(false, 'teardown', err);
  }
  console.log(`1..${n}`);
  process.exitCode = failed ? 1 : 0;
}
