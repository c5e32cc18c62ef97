/**
 * TEST FIXTURE. The pure functions that decide whether an act carries out
 * the message that started the turn (src/tools/request/, the gate's
 * src/tools/gate/origins.ts `judge`, the turn's act chooser in src/agent/conversation/choosing.ts),
 * for the compromised-model suite's replay (bench/hijack-replay.ts): known-good
 * requests and the calls a correct model makes for them, run through the
 * pool's own reading, chooser and rule without a model, a stack or a chain.
 */
export { askingWords, readRequest, type RequestText } from "../src/tools/request/read.js";
export { bindActs, type Contacts, type BoundActs, type ChosenAct } from "../src/tools/request/binding.js";
export { chooseByRule } from "../src/tools/request/grammar.js";
export { judge, type Origin, type Traced, type Verdict } from "../src/tools/gate/origins.js";
export { chooserCall, chooseAndBind, type ContactBook, type ChooserTurn } from "../src/agent/conversation/choosing.js";
export type { TargetKind } from "../src/tools/trust/values.js";
