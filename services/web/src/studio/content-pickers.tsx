// The Studio's pickers beside its content form: the model from the ones the
// pool serves (ListModels), a tool by what provides it and the kind of value
// it takes, and how the template shows in the store (avatar and starters).
import { useQuery } from "@connectrpc/connect-query";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  DEFAULT_MODEL,
  FACE_LIMITS,
  POOL_TOOL_IDS,
  TOOL_KIND_NAMES,
  type TemplateContentJson,
  type ToolJson,
  type ToolKindName,
} from "@convos-pool/kit/browser";
import { useState } from "react";
import type { ShownError } from "../ui/errors";
import { Select, TextArea, TextField } from "../ui/ui";

/** What the content form and each of its parts are given: the content, where its change goes, the server's refusal. */
export interface ContentProps {
  value: TemplateContentJson;
  onChange: (c: TemplateContentJson) => void;
  error: ShownError | undefined;
}

const linesOf = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

/** What each pool tool gives an agent, in people's words. */
const POOL_TOOL_NAMES: Record<(typeof POOL_TOOL_IDS)[number], string> = {
  sms: "SMS: a phone number of its own",
  email: "Email: a mailbox of its own",
  crypto: "Crypto: a wallet of its own",
};

/** The kinds of value a user-provided tool takes, as the picker names them. */
export const TOOL_KIND_LABELS: Record<ToolKindName, string> = {
  text: "text",
  email: "a mail address",
  phone: "a phone number",
  number: "a number",
  url: "a web address",
};

/**
 * The model, chosen from the pool's list. A model the pool no longer serves
 * stays choosable while the template has it (the service lets it stay); with
 * a base, "its base's" leaves the model out. Without the list, a text field.
 */
export function ModelPicker({ value, onChange, error }: ContentProps) {
  const models = useQuery(TemplateService.method.listModels, {});
  const model = value.model ?? DEFAULT_MODEL;
  const current = value.model?.default ?? "";
  const choose = (name: string) => {
    const { model: _, ...rest } = value;
    onChange(name === "" ? rest : { ...rest, model: { ...model, default: name } });
  };
  if (!models.data) {
    return (
      <TextField
        label="Default model"
        name="content.model.default"
        error={error}
        required={!value.base}
        value={current}
        placeholder={value.base ? "its base's" : undefined}
        onChange={(e) => choose(e.target.value)}
        hint={models.isPending ? "Loading the models this pool serves…" : "The list of models could not be loaded."}
      />
    );
  }
  const served = models.data.models;
  return (
    <Select
      label="Default model"
      name="content.model.default"
      error={error}
      required={!value.base}
      value={current}
      onChange={(e) => choose(e.target.value)}
      hint="The models this pool serves."
    >
      {value.base && <option value="">its base's</option>}
      {!value.base && current === "" && <option value="">Choose a model</option>}
      {current !== "" && !served.includes(current) && <option value={current}>{current} (not served here)</option>}
      {served.map((m) => (
        <option key={m} value={m}>
          {m}
        </option>
      ))}
    </Select>
  );
}

/** "Add a tool": one the pool provides, or one the user provides, by the kind of value it takes. */
export function ToolPicker({ tools, onAdd }: { tools: ToolJson[]; onAdd: (t: ToolJson) => void }) {
  const have = new Set(tools.map((t) => t.id));
  return (
    <Select
      label="Add a tool"
      name="add-tool"
      value=""
      onChange={(e) => {
        const [by, what] = e.target.value.split(":") as ["pool" | "user", string];
        const blank = { name: "", description: "", prompt: "", required: false };
        if (by === "pool")
          onAdd({
            ...blank,
            id: what,
            name: POOL_TOOL_NAMES[what as keyof typeof POOL_TOOL_NAMES].split(":")[0] ?? what,
            provisioning: "pool",
          });
        else if (by === "user") onAdd({ ...blank, id: "", provisioning: "user", kind: what as ToolKindName });
      }}
      hint="The pool provides a number, a mailbox or a wallet; anything else the user gives when adding the agent."
    >
      <option value="">Choose a tool…</option>
      <optgroup label="The pool provides">
        {POOL_TOOL_IDS.filter((id) => !have.has(id)).map((id) => (
          <option key={id} value={`pool:${id}`}>
            {POOL_TOOL_NAMES[id]}
          </option>
        ))}
      </optgroup>
      <optgroup label="The user provides">
        {TOOL_KIND_NAMES.map((k) => (
          <option key={k} value={`user:${k}`}>
            Asks the user for {TOOL_KIND_LABELS[k]}
          </option>
        ))}
      </optgroup>
    </Select>
  );
}

/** The avatar and the conversation starters (one a line), as the store shows them. */
export function FaceFields({ value, onChange, error }: ContentProps) {
  const startersError = Object.keys(error?.fields ?? {}).find((f) => f.startsWith("content.conversation_starters"));
  // The text as typed (a blank line while the next is written); the content holds its lines, trimmed.
  const starters = (value.conversation_starters ?? []).join("\n");
  const [text, setText] = useState(starters);
  if (linesOf(text).join("\n") !== starters) setText(starters);
  return (
    <fieldset>
      <legend>In the store</legend>
      <TextField
        label="Avatar"
        name="content.avatar"
        error={error}
        value={value.avatar ?? ""}
        onChange={(e) => {
          const { avatar: _, ...rest } = value;
          onChange(e.target.value ? { ...rest, avatar: e.target.value } : rest);
        }}
        placeholder="🧭"
        hint="One emoji, or an https image URL (its agents' Convos profile shows it; the store shows an emoji)."
      />
      <TextArea
        label="Conversation starters"
        name={startersError ?? "content.conversation_starters"}
        error={error}
        rows={3}
        value={text}
        onChange={(e) => {
          const { conversation_starters: _, ...rest } = value;
          const lines = linesOf(e.target.value);
          setText(e.target.value);
          onChange(lines.length > 0 ? { ...rest, conversation_starters: lines } : rest);
        }}
        hint={`What a person might say first, one a line: at most ${FACE_LIMITS.starters}, each at most ${FACE_LIMITS.starter} characters.`}
      />
    </fieldset>
  );
}
