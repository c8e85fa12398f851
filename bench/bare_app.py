"""The baseline of the admission benchmark: a FastAPI endpoint doing nothing."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/bare")
async def bare() -> dict[str, bool]:
    return {"ok": True}
