import { memo, useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { detailOf, type Api, type Schemas } from "../api/client";
import { streamGeneration } from "../api/generations";
import type { Session } from "../api/session";
import { renderMarkdown } from "../markdown";
import { ConversationActions } from "./ConversationActions";
import { Parameters, type Chosen } from "./Parameters";
import { SaveToNotion } from "./SaveToNotion";
import { SourceLink } from "./SourceLink";

type Message = Pick<Schemas["ConversationMessage"], "role" | "content"> & {
  id: string;
  requestId?: string | null;
  citations?: Schemas["Citation"][];
};
type Model = Schemas["ListedModel"];
const PAGE = 30; // conversations a page

interface Props {
  api: Api;
  session: Session;
}

/** Conversations on the side; the chosen one's messages, and an answer streaming in. */
export function Chat({ api, session }: Props) {
  const { t, i18n } = useTranslation();
  const [conversations, setConversations] = useState<Schemas["ConversationSummary"][]>([]);
  const [nextPage, setNextPage] = useState<string | null>(null);
  const [current, setCurrent] = useState<string | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [models, setModels] = useState<Model[]>([]);
  const [model, setModel] = useState("");
  const [prompt, setPrompt] = useState("");
  const [streaming, setStreaming] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [parameters, setParameters] = useState<Chosen>({});
  const [grounded, setGrounded] = useState(false);
  const [collections, setCollections] = useState("");
  const stop = useRef<AbortController | null>(null);

  /** The list's first page again; `kept` stays in it until the server lists it too (a
   * conversation just answered may not be listed for a moment). */
  const loadConversations = useCallback(
    async (kept?: Schemas["ConversationSummary"]) => {
      const query = { limit: PAGE };
      const { data } = await api.GET("/v1/conversations", { params: { query } });
      if (!data) return;
      const listed = data.items.some((c) => c.conversation_id === kept?.conversation_id);
      setConversations(kept && !listed ? [kept, ...data.items] : data.items);
      setNextPage(data.next_cursor ?? null);
    },
    [api],
  );

  async function loadMore() {
    if (!nextPage) return;
    const query = { limit: PAGE, cursor: nextPage };
    const { data } = await api.GET("/v1/conversations", { params: { query } });
    if (!data) return;
    setConversations((shown) => [...shown, ...data.items]);
    setNextPage(data.next_cursor ?? null);
  }

  useEffect(() => {
    void loadConversations();
    void api.GET("/v1/models").then(({ data }) => {
      if (!data) return;
      setModels(data.data);
      setModel((chosen) => chosen || (data.data[0]?.id ?? ""));
    });
  }, [api, loadConversations]);

  async function open(conversationId: string | null) {
    setCurrent(conversationId);
    setProblem(null);
    if (conversationId === null) return setMessages([]);
    const { data, error } = await api.GET("/v1/conversations/{conversation_id}", {
      params: { path: { conversation_id: conversationId } },
    });
    if (error) return setProblem(detailOf(error, t("chat.loading")));
    setMessages(
      (data?.messages ?? []).map((m) => ({
        id: m.message_id,
        role: m.role,
        content: m.content,
        requestId: m.request_id,
        citations: m.citations,
      })),
    );
  }

  function send(event: FormEvent) {
    event.preventDefault();
    if (!prompt.trim()) return;
    void ask(prompt);
    setPrompt("");
  }

  async function ask(asked: string) {
    const chosen = models.find((m) => m.id === model);
    if (!chosen) return;
    setProblem(null);
    setMessages((shown) => [...shown, { id: crypto.randomUUID(), role: "user", content: asked }]);
    setStreaming("");
    stop.current = new AbortController();
    let answer = "";
    let started: string | null = null;
    let requestId: string | null = null;
    let citations: Schemas["Citation"][] = [];
    let done = false;
    const continuing = current;
    try {
      const body: Schemas["GenerationIn"] = {
        provider: chosen.owned_by,
        model: chosen.id.slice(chosen.owned_by.length + 1),
        prompt: asked,
        conversation_id: current,
        stream: true,
        ...parameters,
        rag: grounded ? { collections: names(collections), mode: "hybrid", top_k: 5 } : null,
      };
      for await (const part of streamGeneration(session.fetch, body, stop.current.signal)) {
        if (part.kind === "start") {
          setCurrent((started = part.conversationId));
          requestId = part.requestId;
        } else if (part.kind === "delta") setStreaming((answer += part.text));
        else if (part.kind === "done") [citations, done] = [part.citations, true];
        else if (part.kind === "error") setProblem(t("chat.failed", { detail: part.detail }));
      }
    } catch (error) {
      if (!stop.current?.signal.aborted) throw error;
      setProblem(t("chat.stopped"));
    } finally {
      stop.current = null;
      setStreaming(null);
      if (answer) {
        setMessages((shown) => [
          ...shown,
          // Only a finished answer can be saved to Notion.
          {
            id: crypto.randomUUID(),
            role: "assistant",
            content: answer,
            requestId: done ? requestId : null,
            citations,
          },
        ]);
      }
      const now = new Date().toISOString();
      // A new conversation is kept only once an answer completed: a stopped or failed first
      // answer leaves none to continue.
      if (!done && continuing === null) setCurrent(null);
      const kept =
        started && done
          ? { conversation_id: started, title: null, created_at: now, updated_at: now }
          : undefined;
      void loadConversations(kept);
    }
  }

  const chosen = models.find((m) => m.id === model);
  const number = new Intl.NumberFormat(i18n.language);
  const money = new Intl.NumberFormat(i18n.language, { style: "currency", currency: "USD" });
  return (
    <div className="chat">
      <nav aria-label={t("chat.conversations")}>
        <button type="button" onClick={() => void open(null)}>
          {t("chat.newChat")}
        </button>
        <h2>{t("chat.conversations")}</h2>
        <ul>
          {conversations.map((c) => (
            <li key={c.conversation_id}>
              <button
                type="button"
                aria-current={c.conversation_id === current ? "page" : undefined}
                onClick={() => void open(c.conversation_id)}
              >
                {c.title || t("chat.untitled")}
              </button>
            </li>
          ))}
        </ul>
        {nextPage && (
          <button type="button" className="secondary" onClick={() => void loadMore()}>
            {t("chat.more")}
          </button>
        )}
      </nav>
      <main>
        <label className="model">
          {t("chat.model")}
          <select value={model} onChange={(e) => setModel(e.target.value)}>
            {models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.id}
              </option>
            ))}
          </select>
        </label>
        <Parameters chosen={parameters} onChange={setParameters} />
        <div className="rag">
          <label>
            <input
              type="checkbox"
              checked={grounded}
              onChange={(e) => setGrounded(e.target.checked)}
            />
            {t("rag.use")}
          </label>
          {grounded && (
            <label>
              {t("rag.collections")}
              <input value={collections} onChange={(e) => setCollections(e.target.value)} />
            </label>
          )}
        </div>
        {chosen && (
          <p className="model-facts">
            {t("chat.context", { tokens: number.format(chosen.context_window) })} ·{" "}
            {t("chat.price", {
              input: money.format(Number(chosen.pricing.input_per_million)),
              output: money.format(Number(chosen.pricing.output_per_million)),
            })}
          </p>
        )}
        {current && (
          <ConversationActions
            api={api}
            session={session}
            conversationId={current}
            title={conversations.find((c) => c.conversation_id === current)?.title ?? null}
            onChanged={() => void loadConversations()}
            onDeleted={() => {
              void open(null);
              void loadConversations();
            }}
          />
        )}
        <Messages
          api={api}
          messages={messages}
          empty={t("chat.empty")}
          onRetry={streaming === null ? (asked) => void ask(asked) : undefined}
        />
        {streaming !== null && (
          <article className="message assistant" aria-live="polite" aria-busy="true">
            <h3>{t("chat.assistant")}</h3>
            <Markdown text={streaming} />
          </article>
        )}
        {problem && (
          <p role="alert" className="problem">
            {problem}
          </p>
        )}
        <form className="composer" onSubmit={send}>
          <label htmlFor="prompt" className="visually-hidden">
            {t("chat.prompt")}
          </label>
          <textarea
            id="prompt"
            value={prompt}
            onChange={(e) => setPrompt(e.target.value)}
            placeholder={t("chat.prompt")}
            rows={3}
          />
          {streaming === null ? (
            <button type="submit" disabled={!prompt.trim() || !chosen}>
              {t("chat.send")}
            </button>
          ) : (
            <button type="button" onClick={() => stop.current?.abort()}>
              {t("chat.stop")}
            </button>
          )}
        </form>
      </main>
    </div>
  );
}

/** The settled messages: not rendered again while an answer streams in below them. */
const Messages = memo(function Messages({
  api,
  messages,
  empty,
  onRetry,
}: {
  api: Api;
  messages: Message[];
  empty: string;
  onRetry?: (asked: string) => void;
}) {
  const { t } = useTranslation();
  if (!messages.length) return <p className="empty">{empty}</p>;
  return (
    <section className="messages">
      {messages.map((m, index) => (
        <article key={m.id} className={`message ${m.role}`}>
          <h3>{m.role === "user" ? t("chat.you") : t("chat.assistant")}</h3>
          {m.role === "assistant" ? <Markdown text={m.content} /> : <p>{m.content}</p>}
          {m.citations && m.citations.length > 0 && <Citations citations={m.citations} />}
          {m.role === "assistant" && (
            <div className="message-actions">
              <CopyButton text={m.content} />
              {onRetry && index === messages.length - 1 && messages[index - 1]?.role === "user" && (
                <button
                  type="button"
                  className="secondary"
                  onClick={() => onRetry(messages[index - 1].content)}
                >
                  {t("chat.retry")}
                </button>
              )}
              {m.requestId && <SaveToNotion api={api} requestId={m.requestId} />}
            </div>
          )}
        </article>
      ))}
    </section>
  );
});

/** An answer's Markdown, as markup only (`markdown.ts` never lets its HTML through). */
function Markdown({ text }: { text: string }) {
  return <div className="markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(text) }} />;
}

/** A grounded answer's sources: `[n]` in the answer is the n-th, each opening its document. */
function Citations({ citations }: { citations: Schemas["Citation"][] }) {
  const { t } = useTranslation();
  return (
    <section aria-label={t("rag.sources")}>
      <h4 className="visually-hidden">{t("rag.sources")}</h4>
      <ol className="citations">
        {citations.map((c) => (
          <li key={c.chunk_id}>
            <SourceLink source={c} />
          </li>
        ))}
      </ol>
    </section>
  );
}

function names(text: string): string[] {
  return text
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
}

function CopyButton({ text }: { text: string }) {
  const { t } = useTranslation();
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="secondary"
      onClick={() => void navigator.clipboard.writeText(text).then(() => setCopied(true))}
    >
      {copied ? t("chat.copied") : t("chat.copy")}
    </button>
  );
}
