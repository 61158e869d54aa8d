// Placeholder source file for the taskdroid examples (named in tasks/tasks-auth-api.md, task 1.2).
import type { Request, Response } from "express";
import { loginSchema } from "../middleware/validate";
import { verifyPassword } from "../lib/password";

export async function login(req: Request, res: Response): Promise<void> {
  const body = loginSchema.parse(req.body);
  const ok = await verifyPassword(body.password, "");
  if (!ok) {
    res.status(401).json({ error: { code: "invalid_credentials", message: "Wrong e-mail or password" } });
    return;
  }
  res.json({ ok: true });
}
