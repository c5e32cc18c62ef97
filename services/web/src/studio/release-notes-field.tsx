// The creator's release notes with a new version (an update or a rollback):
// display text kept with the version, shown beside it in the history and to
// owners pinned behind it (docs/store.md, "Release notes and diffs"). Not
// part of what the creator signs. The limit is the kit's (`checkReleaseNotes`),
// which the page checks before signing and the templates service again; a
// refusal names `release_notes`, the field's name here.
import { LIMITS } from "@convos-pool/kit/browser";
import type { ShownError } from "../ui/errors";
import { TextArea } from "../ui/ui";

export const RELEASE_NOTES_FIELD = "release_notes";

export function ReleaseNotesField({
  value,
  onChange,
  error,
  when,
}: {
  value: string;
  onChange: (notes: string) => void;
  error: ShownError | undefined;
  /** When the notes are sent, in the hint's words ("with this version"). */
  when: string;
}) {
  // Counted as the kit counts: characters as people see them, an emoji is one.
  const count = [...value].length;
  const over = count > LIMITS.releaseNotes;
  return (
    <TextArea
      label="What changed (release notes)"
      name={RELEASE_NOTES_FIELD}
      rows={3}
      value={value}
      onChange={(e) => onChange(e.target.value)}
      error={error}
      hint={
        <>
          Optional, sent {when}. Your version history shows them beside the version, and owners who stay on an older
          version read them before they move. Not part of what you sign.{" "}
          <span data-testid="release-notes-count">
            {count.toLocaleString("en")} of {LIMITS.releaseNotes.toLocaleString("en")} characters
            {over ? ": too long" : ""}
          </span>
        </>
      }
    />
  );
}
