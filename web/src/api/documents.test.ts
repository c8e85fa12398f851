import { describe, expect, it } from "vitest";

import { progressOf, stageStates } from "./documents";

describe("a document's stages", () => {
  it("are all pending until ingestion starts", () => {
    expect(stageStates({ status: "sending" })).toEqual([
      "pending",
      "pending",
      "pending",
      "pending",
    ]);
    expect(stageStates({ status: "accepted" })).toEqual([
      "pending",
      "pending",
      "pending",
      "pending",
    ]);
  });

  it("are done up to the current one", () => {
    expect(stageStates({ status: "running", stage: "embedding" })).toEqual([
      "done",
      "done",
      "current",
      "pending",
    ]);
  });

  it("mark where a document failed", () => {
    expect(stageStates({ status: "failed", stage: "parsing", error: "no text" })).toEqual([
      "failed",
      "pending",
      "pending",
      "pending",
    ]);
  });

  it("are all done once indexed", () => {
    expect(stageStates({ status: "succeeded", stage: "indexing" })).toEqual([
      "done",
      "done",
      "done",
      "done",
    ]);
  });
});

describe("a document's progress", () => {
  const status = {
    id: "d",
    request_id: "r",
    created_at: "2026-12-07T00:00:00Z",
    updated_at: "2026-12-07T00:00:00Z",
  };

  it("counts the current stage's batches", () => {
    const running = { ...status, status: "running" as const, stage: "embedding" };
    const detail = { embedding: { completed: 2, total: 5 } };
    expect(progressOf({ ...running, detail })).toEqual({
      status: "running",
      stage: "embedding",
      completed: 2,
      total: 5,
      error: undefined,
    });
  });

  it("takes a failure's stage and reason from its error", () => {
    const detail = { error: { stage: "parsing", message: "no text" } };
    const failed = progressOf({ ...status, status: "failed", stage: null, detail });
    expect(failed).toMatchObject({ status: "failed", stage: "parsing", error: "no text" });
    expect(stageStates(failed)).toEqual(["failed", "pending", "pending", "pending"]);
  });
});
