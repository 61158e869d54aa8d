// Placeholder test file for the taskdroid examples (named in tasks/tasks-auth-api.md, task 3.1).
import { describe, expect, it } from "vitest";
import { registerSchema } from "../middleware/validate";

describe("register", () => {
  it("rejects a short password", () => {
    expect(() => registerSchema.parse({ email: "a@example.com", password: "short" })).toThrow();
  });
});
