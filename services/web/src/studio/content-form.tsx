// The Studio's form of a template's content: every field with its own error
// (the server's name for it), tools with pool or user provisioning.
import { CATEGORIES } from "../words/categories";
import {
  DEFAULT_MAX_TRUST_LEVEL,
  DEFAULT_MODEL,
  POOL_TOOL_IDS,
  TOOL_KIND_NAMES,
  TRUST_LEVEL_NAMES,
  TRUST_LEVEL_SUMMARIES,
  type TemplateContentJson,
  type ToolJson,
  type ToolKindName,
  type TrustLevelName,
} from "@convos-pool/kit/browser";
import { Select, TextArea, TextField } from "../ui/ui";
import { type ContentProps, FaceFields, ModelPicker, TOOL_KIND_LABELS, ToolPicker } from "./content-pickers";

/** The names of the fields the form shows, so that their errors are not repeated above it. */
export function formFields(c: TemplateContentJson): string[] {
  const fields = [
    "agent_name",
    "description",
    "category",
    "tags",
    "instructions",
    "model.default",
    "clone_directive",
    "max_trust_level",
    "avatar",
    "conversation_starters",
  ].map((f) => `content.${f}`);
  const toolFields = c.tools.flatMap((_, i) =>
    ["id", "name", "provisioning", "description", "prompt", "kind"].map((f) => `content.tools[${i}].${f}`),
  );
  const starters = (c.conversation_starters ?? []).map((_, i) => `content.conversation_starters[${i}]`);
  return [...fields, ...toolFields, ...c.tags.map((_, i) => `content.tags[${i}]`), ...starters];
}

export function ContentForm({ value, onChange, error }: ContentProps) {
  const set = (patch: Partial<TemplateContentJson>) => onChange({ ...value, ...patch });
  // With a base and no model of its own, the template runs on the base's: shown as the default until set.
  const model = value.model ?? DEFAULT_MODEL;
  const setTool = (i: number, patch: Partial<ToolJson>) =>
    set({ tools: value.tools.map((t, j) => (j === i ? { ...t, ...patch } : t)) });
  const tagsError = Object.keys(error?.fields ?? {}).find((f) => f.startsWith("content.tags"));
  return (
    <>
      <TextField
        label="Agent name"
        name="content.agent_name"
        error={error}
        required
        value={value.agent_name}
        onChange={(e) => set({ agent_name: e.target.value })}
        maxLength={100}
      />
      <TextArea
        label="Description"
        name="content.description"
        error={error}
        rows={2}
        value={value.description}
        onChange={(e) => set({ description: e.target.value })}
        hint="What the store shows."
      />
      <div className="row">
        <TextField
          label="Category"
          name="content.category"
          error={error}
          value={value.category}
          onChange={(e) => set({ category: e.target.value })}
          list="categories"
          hint="Lower-case letters, digits and hyphens."
        />
        <datalist id="categories">
          {CATEGORIES.map((c) => (
            <option key={c} value={c} />
          ))}
        </datalist>
        <TextField
          label="Tags"
          name={tagsError ?? "content.tags"}
          error={error}
          value={value.tags.join(", ")}
          onChange={(e) =>
            set({
              tags: e.target.value
                .split(",")
                .map((t) => t.trim())
                .filter(Boolean),
            })
          }
          hint="Separated by commas."
        />
      </div>
      <TextArea
        label="Instructions"
        name="content.instructions"
        error={error}
        required
        rows={10}
        value={value.instructions}
        onChange={(e) => set({ instructions: e.target.value })}
        hint="What the agent is told to be and do (its IDENTITY.md)."
      />
      <fieldset>
        <legend>Model</legend>
        <ModelPicker value={value} onChange={onChange} error={error} />
        <div className="check">
          <input
            id="allow-override"
            type="checkbox"
            checked={model.allow_override}
            onChange={(e) => set({ model: { ...model, allow_override: e.target.checked } })}
          />
          <label htmlFor="allow-override">Users may choose another model</label>
        </div>
      </fieldset>
      <fieldset>
        <legend>Tools</legend>
        {value.tools.length === 0 && (
          <p className="hint">
            No tools. The pool provisions {POOL_TOOL_IDS.join(", ")}; any other tool is the user's to provide.
          </p>
        )}
        {value.tools.map((tool, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a tool is its place in the list: its legend ("Tool 2") and its fields' names (content.tools[1].id) go by it, and its id is what is being typed
          <fieldset className="tool" key={i}>
            <legend>Tool {i + 1}</legend>
            <div className="row">
              <TextField
                label="Tool id"
                name={`content.tools[${i}].id`}
                error={error}
                required
                value={tool.id}
                onChange={(e) => setTool(i, { id: e.target.value })}
                list="pool-tools"
              />
              <TextField
                label="Name"
                name={`content.tools[${i}].name`}
                error={error}
                value={tool.name}
                onChange={(e) => setTool(i, { name: e.target.value })}
              />
              <Select
                label="Provided by"
                name={`content.tools[${i}].provisioning`}
                error={error}
                value={tool.provisioning}
                onChange={(e) => {
                  // Only a user tool has a kind.
                  const { kind: _, ...rest } = tool;
                  const provisioning = e.target.value as ToolJson["provisioning"];
                  set({ tools: value.tools.map((t, j) => (j === i ? { ...rest, provisioning } : t)) });
                }}
              >
                <option value="pool">the pool</option>
                <option value="user">the user</option>
              </Select>
              {tool.provisioning === "user" && (
                <Select
                  label="Value"
                  name={`content.tools[${i}].kind`}
                  error={error}
                  value={tool.kind ?? ""}
                  onChange={(e) => {
                    const { kind: _, ...rest } = tool;
                    const kind = e.target.value as ToolKindName | "";
                    set({ tools: value.tools.map((t, j) => (j === i ? (kind ? { ...rest, kind } : rest) : t)) });
                  }}
                >
                  <option value="">as its id says</option>
                  {TOOL_KIND_NAMES.map((k) => (
                    <option key={k} value={k}>
                      {TOOL_KIND_LABELS[k]}
                    </option>
                  ))}
                </Select>
              )}
            </div>
            <TextField
              label="Description"
              name={`content.tools[${i}].description`}
              error={error}
              value={tool.description}
              onChange={(e) => setTool(i, { description: e.target.value })}
            />
            <TextField
              label="Prompt"
              name={`content.tools[${i}].prompt`}
              error={error}
              value={tool.prompt}
              onChange={(e) => setTool(i, { prompt: e.target.value })}
              hint={tool.provisioning === "user" ? "What the user is asked when adding the agent." : undefined}
            />
            <div className="check">
              <input
                id={`tool-required-${i}`}
                type="checkbox"
                checked={tool.required}
                onChange={(e) => setTool(i, { required: e.target.checked })}
              />
              <label htmlFor={`tool-required-${i}`}>Required</label>
            </div>
            <button
              type="button"
              className="link danger"
              onClick={() => set({ tools: value.tools.filter((_, j) => j !== i) })}
            >
              Remove tool {i + 1}
            </button>
          </fieldset>
        ))}
        <datalist id="pool-tools">
          {POOL_TOOL_IDS.map((t) => (
            <option key={t} value={t} />
          ))}
        </datalist>
        <ToolPicker tools={value.tools} onAdd={(t) => set({ tools: [...value.tools, t] })} />
      </fieldset>
      <FaceFields value={value} onChange={onChange} error={error} />
      <TextArea
        label="Default clone directive"
        name="content.clone_directive"
        error={error}
        rows={2}
        value={value.clone_directive ?? ""}
        onChange={(e) => {
          const { clone_directive: _, ...rest } = value;
          onChange(e.target.value ? { ...rest, clone_directive: e.target.value } : rest);
        }}
        hint="What an agent of this template passes on when its owner clones it without saying what."
      />
      <Select
        label="Highest trust level"
        name="content.max_trust_level"
        error={error}
        value={value.max_trust_level ?? DEFAULT_MAX_TRUST_LEVEL}
        onChange={(e) => {
          // L2 is what no level means: left out, so the content hashes as one that never had it.
          const { max_trust_level: _, ...rest } = value;
          const level = e.target.value as TrustLevelName;
          onChange(level === DEFAULT_MAX_TRUST_LEVEL ? rest : { ...rest, max_trust_level: level });
        }}
        hint="The most its agents' owners may let them do on their own."
      >
        {TRUST_LEVEL_NAMES.map((level) => (
          <option key={level} value={level}>
            {level}: {TRUST_LEVEL_SUMMARIES[level]}
          </option>
        ))}
      </Select>
    </>
  );
}
