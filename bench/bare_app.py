"""The baseline of the admission benchmark: a FastAPI endpoint doing nothing."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/bare")
async def bare() -> dict[str, bool]:
    return {"ok": True}


@app.post("/bare", status_code=202)
async def bare_post(body: dict[str, object]) -> dict[str, bool]:
    return {"accepted": bool(body)}
