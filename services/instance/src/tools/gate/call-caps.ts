// How many tool calls a turn may make, whatever thinks for the agent. A model
// that does what injected text says may ask for any number of calls at once,
// and each call that acts is a text, a mail or a payment (or a question to
// the owner). Two caps, both here:
//
//   per round  the model's loop (model/openai.ts, which OpenClaw's turns go
//              through too) runs the first MAX_CALLS_PER_ROUND calls of one
//              answer;
//   per turn   the gate (gate.ts), which every runtime's calls pass, runs at
//              most MAX_CALLS_PER_TURN in one turn, over all its rounds.
//
// A call past either is not run, and the model is told so in its result.
// Pure; docs/tools.md.

/**
 * Calls run from one answer of the model. Three: what one request needs at
 * once (look, act, tell: a balance, a payment, a text to say it is paid);
 * more in one answer is a list, which the model can spread over rounds.
 */
export const MAX_CALLS_PER_ROUND = 3;

/**
 * Calls in one turn, over all its rounds (and whatever the runtime). Six: two
 * full rounds, enough for "read my mail and answer it" (list, read, send) twice;
 * a turn that wants more is a flood, and the next message starts a new turn.
 */
export const MAX_CALLS_PER_TURN = 6;

/** What the model is told of a call of one answer past MAX_CALLS_PER_ROUND. */
export const OVER_ROUND = `not run: I run at most ${MAX_CALLS_PER_ROUND} function calls of one answer; call it again in your next answer if it is still needed`;

/** What the model is told of a call of one turn past MAX_CALLS_PER_TURN. */
export const OVER_TURN = `not done: I make at most ${MAX_CALLS_PER_TURN} tool calls in one turn; it takes a new message to do more`;

/** Whether the call at `index` (from 0) of one answer runs. */
export function runsInRound(index: number): boolean {
  return index < MAX_CALLS_PER_ROUND;
}

/** Whether the `nth` call of a turn (from 1) runs. */
export function runsInTurn(nth: number): boolean {
  return nth <= MAX_CALLS_PER_TURN;
}
