// Placeholder source file for the taskdroid examples (named in tasks/tasks-auth-api.md, task 1.1).
import { z } from "zod";

export const registerSchema = z.object({
  email: z.string().email(),
  password: z.string().min(12),
});

export const loginSchema = z.object({
  email: z.string().email(),
  password: z.string().min(1),
});
