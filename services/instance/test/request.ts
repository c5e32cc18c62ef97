/**
 * TEST FIXTURE. The pure functions that decide whether an act carries out
 * the message that started the turn (src/tools/request/, the gate's
 * src/tools/gate/origins.ts `judge`, the turn's planning in src/agent/conversation/planning.ts),
 * for the compromised-model suite's replay (bench/hijack-replay.ts): known-good
 * requests and the calls a correct model makes for them, run through the
 * pool's own reading, planner and rule without a model, a stack or a chain.
 */
export { askingWords, readRequest, type RequestText } from "../src/tools/request/read.js";
export { bindPlan, type Contacts, type Plan, type PlannedAct } from "../src/tools/request/binding.js";
export { planByRule } from "../src/tools/request/grammar.js";
export { judge, type Origin, type Traced, type Verdict } from "../src/tools/gate/origins.js";
export { planningInput, planTurn, type ContactBook, type PlanningTurn } from "../src/agent/conversation/planning.js";
export type { TargetKind } from "../src/tools/trust/values.js";
