// The app's small building blocks: a page with its heading, form fields that
// show their own error, and the loading, empty and error states.
import {
  useEffect,
  useId,
  useRef,
  useState,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from "react";
import type { ShownError } from "./errors";
import { Link, movedWithinApp, useLocation } from "../router";

/**
 * A page: its title in the tab and, when the app moves to it, focus on its
 * heading (screen readers hear where they are). The first page of a visit
 * keeps the browser's own start, so that Tab reaches "Skip to content" first.
 */
export function Page({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Convos Agent Pool`;
    if (movedWithinApp()) heading.current?.focus();
  }, [title]);
  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1} ref={heading}>
          {title}
        </h1>
        {actions && <div className="actions">{actions}</div>}
      </div>
      {children}
    </>
  );
}

interface FieldProps {
  label: string;
  /** The server's name of the field ("content.agent_name"): where its error is found. */
  name: string;
  error?: ShownError | undefined;
  hint?: ReactNode;
  required?: boolean | undefined;
}

/**
 * A field's props taken apart: what its shell and its control share (the id
 * that ties the label to the control, and the validity and descriptions, the
 * hint and the server's error, that the control announces), and the rest,
 * the control's own attributes.
 */
function useField<P extends FieldProps>({ label, name, error, hint, required, ...rest }: P) {
  const id = useId();
  const message = error?.fields[name];
  return {
    shell: { id, label, required, hint, message },
    control: {
      id,
      name,
      required,
      "aria-invalid": message ? true : undefined,
      "aria-describedby": describedBy(id, hint, message ? `${id}-error` : undefined),
    },
    rest,
  };
}

function FieldShell({
  id,
  label,
  required,
  hint,
  message,
  children,
}: {
  id: string;
  label: string;
  required?: boolean | undefined;
  hint?: ReactNode;
  message: string | undefined;
  children: ReactNode;
}) {
  return (
    <div className={message ? "field invalid" : "field"}>
      <label htmlFor={id}>
        {label}
        {required && <span aria-hidden="true"> *</span>}
      </label>
      {children}
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {message && (
        <p className="field-error" id={`${id}-error`}>
          {message}
        </p>
      )}
    </div>
  );
}

export function TextField(props: FieldProps & InputHTMLAttributes<HTMLInputElement>) {
  const f = useField(props);
  return (
    <FieldShell {...f.shell}>
      <input {...f.control} {...f.rest} />
    </FieldShell>
  );
}

export function TextArea(props: FieldProps & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const f = useField(props);
  return (
    <FieldShell {...f.shell}>
      <textarea {...f.control} {...f.rest} />
    </FieldShell>
  );
}

export function Select(props: FieldProps & SelectHTMLAttributes<HTMLSelectElement>) {
  const f = useField(props);
  return (
    <FieldShell {...f.shell}>
      <select {...f.control} {...f.rest} />
    </FieldShell>
  );
}

/**
 * A table's caption, read by screen readers and not shown (the section's
 * heading shows it), and its column headings, each one a column's header.
 */
export function TableHead({ caption, columns }: { caption: ReactNode; columns: readonly ReactNode[] }) {
  return (
    <>
      <caption className="sr-only">{caption}</caption>
      <thead>
        <tr>
          {columns.map((c, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a table's columns are fixed, so a column's place is its key
            <th scope="col" key={i}>
              {c}
            </th>
          ))}
        </tr>
      </thead>
    </>
  );
}

/** The server's name of a conversation's invite, where its error is. */
export const INVITE_FIELD = "conversation_invite";

/**
 * The invite (link or code) of the Convos conversation an agent is to join:
 * asked the same way by every form that puts an agent into one (a claim, an
 * added conversation, a clone).
 */
export function InviteField({
  error,
  value,
  onChange,
  hint,
}: {
  error: ShownError | undefined;
  value: string;
  onChange: (invite: string) => void;
  hint?: ReactNode;
}) {
  return (
    <TextField
      label="Conversation invite"
      name={INVITE_FIELD}
      error={error}
      required
      value={value}
      onChange={(e) => onChange(e.target.value)}
      hint={hint}
      autoComplete="off"
    />
  );
}

function describedBy(id: string, hint: ReactNode, error: string | undefined): string | undefined {
  const ids = [hint ? `${id}-hint` : "", error ?? ""].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

/** The error of a form or a page, announced when it appears; fields' own errors are listed by their fields. */
export function ErrorBox({ error, fieldsShown = [] }: { error: ShownError | undefined; fieldsShown?: string[] }) {
  if (!error) return null;
  // Fields no form field shows, unless the message already says just that.
  const others = Object.entries(error.fields).filter(
    ([f, d]) => !fieldsShown.includes(f) && error.message !== `${f}: ${d}`,
  );
  const byFields = Object.keys(error.fields).some((f) => fieldsShown.includes(f)) && others.length === 0;
  return (
    <div className="error-box" role="alert">
      <p>
        {byFields
          ? Object.keys(error.fields).length === 1
            ? "The marked field says what to change."
            : "The marked fields say what to change."
          : error.message}
      </p>
      {others.length > 0 && (
        <ul>
          {others.map(([f, d]) => (
            <li key={f}>
              <code>{f}</code>: {d}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function Notice({ children }: { children: ReactNode }) {
  return (
    <p className="notice" role="status">
      {children}
    </p>
  );
}

/** Shown instead of a page that needs to know who you are. */
export function SignInFirst({ what }: { what: string }) {
  const { pathname, search } = useLocation();
  return (
    <p className="notice">
      <Link to={`/signin?next=${encodeURIComponent(pathname + search)}`}>Sign in</Link> to see {what}.
    </p>
  );
}

/** Keyset pages: the tokens of the pages before this one, so that Previous goes back without the server counting. */
export function usePages() {
  const [tokens, setTokens] = useState<string[]>([""]);
  return {
    token: tokens[tokens.length - 1] ?? "",
    number: tokens.length,
    next: (token: string) => setTokens([...tokens, token]),
    previous: () => setTokens(tokens.slice(0, -1)),
    reset: () => setTokens([""]),
  };
}

/** Previous and Next over keyset pages; shown only when there is more than one page. */
export function Pager({
  pages,
  nextToken,
  of,
  label = "Pages",
}: {
  pages: ReturnType<typeof usePages>;
  nextToken: string | undefined;
  of?: number;
  label?: string;
}) {
  if (pages.number < 2 && !nextToken) return null;
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" disabled={pages.number < 2} onClick={pages.previous}>
        Previous page
      </button>
      <span>
        Page {pages.number}
        {of ? ` of ${of}` : ""}
      </span>
      <button type="button" disabled={!nextToken} onClick={() => nextToken && pages.next(nextToken)}>
        Next page
      </button>
    </nav>
  );
}
