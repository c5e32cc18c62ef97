// A template's management below the editor: publish it to the store or
// unpublish it, archive it, delete it; each signed by its creator over the
// version it acts on. Each runs as the editor's one action at a time (its
// busy state, its notice, its error).
import { useMutation } from "@connectrpc/connect-query";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { TemplateStatus, Visibility, type Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { useQueryClient } from "@tanstack/react-query";
import { navigate } from "../router";
import { useSession } from "../sign-in/session";

export function Manage({
  template: base,
  busy,
  act,
  onChanged,
}: {
  template: Template;
  busy: boolean;
  /** The editor's one action at a time; `what` is its notice when done. */
  act: (what: string, action: () => Promise<void>) => Promise<void>;
  /** The template as the service answered a change. */
  onChanged: (template: Template | undefined) => void;
}) {
  const { sign } = useSession();
  const queryClient = useQueryClient();
  const visibility = useMutation(TemplateService.method.setTemplateVisibility);
  const archive = useMutation(TemplateService.method.archiveTemplate);
  const remove = useMutation(TemplateService.method.deleteTemplate);

  const setVisible = (t: Template, publish: boolean) =>
    act(publish ? "Published: it is in the store." : "Unpublished: only you see it.", async () => {
      const v = publish ? Visibility.PUBLIC : Visibility.PRIVATE;
      const signature = await sign("SetTemplateVisibility", {
        templateId: t.id,
        version: t.version,
        visibility: publish ? "public" : "private",
      });
      const res = await visibility.mutateAsync({
        templateId: t.id,
        expectedVersion: t.version,
        visibility: v,
        signature,
      });
      onChanged(res.template);
      await queryClient.invalidateQueries();
    });

  const doArchive = (t: Template) =>
    act("Archived: no new agents; the live ones keep running.", async () => {
      const signature = await sign("ArchiveTemplate", { templateId: t.id, version: t.version });
      const res = await archive.mutateAsync({ templateId: t.id, expectedVersion: t.version, signature });
      onChanged(res.template);
      await queryClient.invalidateQueries();
    });

  const doDelete = (t: Template) => {
    if (!window.confirm(`Delete ${t.content?.agentName} and all its versions? This cannot be undone.`)) return;
    void act("Deleted.", async () => {
      const signature = await sign("DeleteTemplate", { templateId: t.id, version: t.version });
      await remove.mutateAsync({ templateId: t.id, expectedVersion: t.version, signature });
      queryClient.clear();
      navigate("/studio", { replace: true });
    });
  };

  return (
    <section className="card" aria-labelledby="manage-heading">
      <h2 id="manage-heading">Manage</h2>
      <div className="actions">
        {base.visibility === Visibility.PUBLIC ? (
          <button type="button" disabled={busy} onClick={() => void setVisible(base, false)}>
            Unpublish
          </button>
        ) : (
          <button
            type="button"
            disabled={busy || base.status === TemplateStatus.ARCHIVED}
            onClick={() => void setVisible(base, true)}
          >
            Publish to the store
          </button>
        )}
        {base.status !== TemplateStatus.ARCHIVED && (
          <button type="button" disabled={busy} onClick={() => void doArchive(base)}>
            Archive
          </button>
        )}
        <button type="button" className="danger" disabled={busy} onClick={() => doDelete(base)}>
          Delete
        </button>
      </div>
    </section>
  );
}
