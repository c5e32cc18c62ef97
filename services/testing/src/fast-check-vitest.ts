// What the tests use of @fast-check/vitest, in a few lines: `fc`, and `test`
// with `test.prop(arbitraries, parameters?)(name, body, timeout?)`, a
// property run by fast-check's own `fc.assert` as one vitest test, named
// with its seed as the package names it ("… (with seed=…)"), a seed from
// the parameters or `fc.configureGlobal` kept. The vitest config resolves
// `@fast-check/vitest` here for every tier (docs/testing.md): the package
// builds its `test` at import by walking every chain of vitest's modifiers
// (`skip.only.concurrent…`), which with vitest 4.1 costs about 1.7 seconds of
// CPU in each worker that imports it.
//
// One difference, made loud: the package runs a suite's beforeEach and
// afterEach hooks around each run of a property; here a property under such
// hooks fails, naming itself, rather than run them once.
import * as fc from "fast-check";
import { TestRunner, test as vitestTest, type RunnerTestSuite } from "vitest";

export { fc };

type Arbitraries<Ts extends unknown[]> = { [K in keyof Ts]: fc.Arbitrary<Ts[K]> };
type Body<Ts extends unknown[]> = (...args: Ts) => unknown;

/** The seed a property runs with: the one asked, else the global one, else a fresh one. */
export function seedOf(parameters?: { seed?: number }): number {
  return parameters?.seed ?? fc.readConfigureGlobal().seed ?? Date.now() ^ (Math.random() * 4294967296);
}

/** Whether a suite or one around it has beforeEach or afterEach hooks. */
export function hasEachHooks(suite: RunnerTestSuite | undefined): boolean {
  for (let s = suite; s; s = s.suite) {
    const hooks = TestRunner.getSuiteHooks(s);
    if (hooks.beforeEach.length > 0 || hooks.afterEach.length > 0) return true;
  }
  return false;
}

/** One property checked by fast-check; rejects with fast-check's report (seed, counterexample) when it does not hold. */
export async function checkProperty<Ts extends [unknown, ...unknown[]]>(
  arbitraries: Arbitraries<Ts>,
  body: Body<Ts>,
  parameters: fc.Parameters<Ts> & { seed: number },
): Promise<void> {
  const property = fc.asyncProperty(...arbitraries, async (...args: Ts) => {
    await body(...args);
  });
  await fc.assert(property, parameters);
}

function prop<Ts extends [unknown, ...unknown[]]>(arbitraries: Arbitraries<Ts>, parameters?: fc.Parameters<Ts>) {
  return (name: string, body: Body<Ts>, timeout?: number): void => {
    const seed = seedOf(parameters);
    vitestTest(
      `${name} (with seed=${seed})`,
      async () => {
        const current = TestRunner.getCurrentTest();
        if (hasEachHooks(current?.suite ?? current?.file))
          throw new Error(
            `${name}: a property under beforeEach or afterEach hooks, which would run once, not each run`,
          );
        await checkProperty(arbitraries, body, { ...parameters, seed });
      },
      timeout,
    );
  };
}

/** vitest's `test` (its `each`, `skip` and the rest through it), with `prop`. */
export const test: typeof vitestTest & { prop: typeof prop } = Object.assign(
  Object.setPrototypeOf(
    (...args: Parameters<typeof vitestTest>) => vitestTest(...args),
    vitestTest,
  ) as typeof vitestTest,
  { prop },
);
