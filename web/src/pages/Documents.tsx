import { useCallback, useEffect, useRef, useState, type DragEvent, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { detailOf, type Api, type Schemas } from "../api/client";
import { finished, progressOf, uploadOne, type Progress } from "../api/documents";
import type { Session } from "../api/session";
import { DocumentEdit } from "./DocumentEdit";
import { StageTrack } from "./StageTrack";

const POLL_MS = 500;

interface Upload {
  key: string;
  filename: string;
  documentId?: string;
  progress: Progress;
}

/** Uploads with each file's progress until indexed or failed (with a retry), and the
 * library: filtered, deleted. */
export function Documents({ api, session }: { api: Api; session: Session }) {
  const { t, i18n } = useTranslation();
  const [collection, setCollection] = useState("default");
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [library, setLibrary] = useState<Schemas["DocumentSummary"][]>([]);
  const [filters, setFilters] = useState({ status: "", type: "", collection: "" });
  const [problem, setProblem] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const live = useRef(true);
  useEffect(() => () => void (live.current = false), []);

  const loadLibrary = useCallback(async () => {
    const query = {
      limit: 100,
      ...(filters.status ? { status: filters.status as "processing" | "ingested" | "failed" } : {}),
      ...(filters.type ? { type: filters.type } : {}),
      ...(filters.collection ? { collection: filters.collection } : {}),
    };
    const { data, error } = await api.GET("/v1/documents", { params: { query } });
    if (error) return setProblem(detailOf(error, t("login.failed")));
    setLibrary(data?.documents ?? []);
  }, [api, filters, t]);
  useEffect(() => void loadLibrary(), [loadLibrary]);

  const update = (key: string, change: Partial<Upload>) =>
    setUploads((all) => all.map((u) => (u.key === key ? { ...u, ...change } : u)));

  async function follow(key: string, documentId: string) {
    while (live.current) {
      const { data } = await api.GET("/v1/documents/{document_id}", {
        params: { path: { document_id: documentId } },
      });
      if (data) {
        const progress = progressOf(data);
        update(key, { progress });
        if (finished(progress)) break;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    void loadLibrary();
  }

  async function send(files: FileList | File[]) {
    const chosen = Array.from(files);
    const added = chosen.map((file) => ({
      key: crypto.randomUUID(),
      filename: file.name,
      progress: { status: "sending" } as Progress,
    }));
    setUploads((all) => [...added, ...all]);
    await Promise.all(
      chosen.map(async (file, index) => {
        const { key } = added[index];
        const sent = await uploadOne(session.fetch, file, collection);
        if ("refused" in sent)
          return update(key, { progress: { status: "refused", error: sent.refused } });
        update(key, { documentId: sent.documentId, progress: { status: "accepted" } });
        await follow(key, sent.documentId);
      }),
    );
  }

  async function retry(upload: Upload) {
    if (!upload.documentId) return;
    const { error } = await api.POST("/v1/documents/{document_id}/retry", {
      params: { path: { document_id: upload.documentId } },
    });
    if (error)
      return update(upload.key, { progress: { ...upload.progress, error: detailOf(error, "") } });
    update(upload.key, { progress: { status: "accepted" } });
    await follow(upload.key, upload.documentId);
  }

  async function remove(documentId: string) {
    const { error } = await api.DELETE("/v1/documents/{document_id}", {
      params: { path: { document_id: documentId } },
    });
    if (error) return setProblem(detailOf(error, t("login.failed")));
    setLibrary((all) => all.filter((d) => d.document_id !== documentId));
  }

  function dropped(event: DragEvent) {
    event.preventDefault();
    void send(event.dataTransfer.files);
  }

  const size = new Intl.NumberFormat(i18n.language, {
    style: "unit",
    unit: "kilobyte",
    maximumFractionDigits: 1,
  });
  const stageName = (stage: string | null | undefined) =>
    stage ? t(`documents.stages.${stage}`, { defaultValue: stage }) : "";
  const said = (p: Progress) => {
    if (p.status === "sending") return t("documents.sending");
    if (p.status === "accepted") return t("documents.accepted");
    if (p.status === "running") {
      const counts = p.total
        ? ` (${t("documents.progress", { completed: p.completed, total: p.total })})`
        : "";
      return t("documents.running", { stage: stageName(p.stage) }) + counts;
    }
    if (p.status === "succeeded") return t("documents.succeeded");
    return `${t("documents.failed")}: ${p.error ?? ""}`;
  };

  return (
    <main className="page">
      <h1>{t("documents.title")}</h1>
      <section className="card" aria-labelledby="upload-title">
        <h2 id="upload-title">{t("documents.upload")}</h2>
        <label>
          {t("documents.collection")}
          <input
            value={collection}
            onChange={(e) => setCollection(e.target.value)}
            pattern="[a-z0-9][a-z0-9_\-]{0,63}"
          />
        </label>
        <div className="dropzone" onDragOver={(e) => e.preventDefault()} onDrop={dropped}>
          <label htmlFor="files" className="button-like">
            {t("documents.choose")}
          </label>
          <input
            id="files"
            type="file"
            multiple
            className="visually-hidden"
            onChange={(e) => e.target.files && void send(e.target.files)}
          />
          <span>{t("documents.drop")}</span>
        </div>
        <ul className="uploads" aria-live="polite">
          {uploads.map((upload) => (
            <li key={upload.key} data-status={upload.progress.status}>
              <strong>{upload.filename}</strong> —{" "}
              <span data-testid="upload-status">{said(upload.progress)}</span>
              {upload.documentId && (
                <StageTrack progress={upload.progress} filename={upload.filename} />
              )}
              {upload.progress.status === "failed" && (
                <button type="button" className="secondary" onClick={() => void retry(upload)}>
                  {t("documents.retry")}
                </button>
              )}
            </li>
          ))}
        </ul>
      </section>
      <section className="card" aria-labelledby="library-title">
        <h2 id="library-title">{t("documents.library")}</h2>
        <form
          className="filters"
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            void loadLibrary();
          }}
        >
          <label>
            {t("documents.status")}
            <select
              value={filters.status}
              onChange={(e) => setFilters({ ...filters, status: e.target.value })}
            >
              <option value="">{t("documents.all")}</option>
              <option value="processing">{t("documents.processing")}</option>
              <option value="ingested">{t("documents.ingested")}</option>
              <option value="failed">{t("documents.failed")}</option>
            </select>
          </label>
          <label>
            {t("documents.type")}
            <input
              value={filters.type}
              onChange={(e) => setFilters({ ...filters, type: e.target.value })}
              placeholder="text/plain"
            />
          </label>
          <label>
            {t("documents.collection")}
            <input
              value={filters.collection}
              onChange={(e) => setFilters({ ...filters, collection: e.target.value })}
            />
          </label>
        </form>
        {problem && (
          <p role="alert" className="problem">
            {problem}
          </p>
        )}
        {editing && library.some((d) => d.document_id === editing) && (
          <DocumentEdit
            api={api}
            document={library.find((d) => d.document_id === editing)!}
            onCancel={() => setEditing(null)}
            onSaved={(changed) => {
              setLibrary((all) =>
                all.map((d) => (d.document_id === changed.document_id ? changed : d)),
              );
              setEditing(null);
            }}
          />
        )}
        {library.length === 0 ? (
          <p className="empty">{t("documents.none")}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">{t("documents.filename")}</th>
                <th scope="col">{t("documents.collection")}</th>
                <th scope="col">{t("documents.type")}</th>
                <th scope="col">{t("documents.size")}</th>
                <th scope="col">{t("documents.status")}</th>
                <th scope="col">{t("documents.chunks")}</th>
                <th scope="col">
                  <span className="visually-hidden">{t("documents.delete")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {library.map((d) => (
                <tr key={d.document_id}>
                  <td>{d.filename}</td>
                  <td>{d.collection}</td>
                  <td>{d.content_type}</td>
                  <td>{size.format(d.size_bytes / 1024)}</td>
                  <td>
                    {d.status === "failed"
                      ? `${t("documents.failed")}: ${d.error ?? ""}`
                      : t(`documents.${d.status}`, { defaultValue: d.status })}
                  </td>
                  <td>{d.chunk_count}</td>
                  <td className="message-actions">
                    <button
                      type="button"
                      className="secondary"
                      aria-label={`${t("documents.edit")} ${d.filename}`}
                      onClick={() => setEditing(d.document_id)}
                    >
                      {t("documents.edit")}
                    </button>
                    <button
                      type="button"
                      className="danger"
                      aria-label={`${t("documents.delete")} ${d.filename}`}
                      onClick={() => void remove(d.document_id)}
                    >
                      {t("documents.delete")}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </main>
  );
}
