// Placeholder source file for the taskdroid examples (named in tasks/tasks-auth-api.md, task 1.2).
import argon2 from "argon2";

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return hash ? argon2.verify(hash, password) : Promise.resolve(false);
}
