// Placeholder source file for the taskdroid examples (named in tasks/tasks-auth-api.md, task 1.1).
import type { Request, Response } from "express";
import { registerSchema } from "../middleware/validate";
import { hashPassword } from "../lib/password";

export async function register(req: Request, res: Response): Promise<void> {
  const body = registerSchema.parse(req.body);
  const passwordHash = await hashPassword(body.password);
  // … insert the user, create a session …
  res.status(201).json({ email: body.email, passwordHash: passwordHash.length > 0 });
}
