// How a template presents itself (docs/templates.md, "Avatar and
// conversation starters"): its avatar and its conversation starters, as the
// store's cards and the template's page show them.
//
// An image avatar is not loaded: the app's pages fetch images from the pool
// only (the gateway's img-src 'self'), since a creator's image host would
// otherwise learn who browses the store. Its initial stands in for it.
import { isAvatarUrl } from "@convos-pool/kit/browser";

export function Avatar({ avatar, name }: { avatar: string | undefined; name: string }) {
  if (!avatar) return null;
  const emoji = !isAvatarUrl(avatar);
  return (
    <span className="avatar" role="img" aria-label={`${name}'s avatar`}>
      {emoji ? avatar : (name.trim()[0] ?? "?").toUpperCase()}
    </span>
  );
}

export function Starters({ starters, label = "Try saying" }: { starters: readonly string[]; label?: string }) {
  if (starters.length === 0) return null;
  return (
    <div className="starters">
      <p className="meta">{label}</p>
      <ul aria-label="Conversation starters">
        {starters.map((s) => (
          <li key={s}>“{s}”</li>
        ))}
      </ul>
    </div>
  );
}
