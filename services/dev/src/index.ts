// `npm start`'s pool as a package: the whole pool in one process (pool.ts).
export { startPool, type PoolOptions, type RunningPool } from "./pool.js";
