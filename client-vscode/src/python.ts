/** The interpreter selected in the Python extension (ms-python.python), when it is installed. */
import * as vscode from 'vscode';
import type { PythonExtension } from '@vscode/python-extension';

const PYTHON_EXTENSION_ID = 'ms-python.python';

export interface Interpreter {
  path?: string;
  /** why there is none */
  reason?: string;
}

let api: PythonExtension | undefined;

async function pythonApi(): Promise<PythonExtension | undefined> {
  if (api !== undefined) {
    return api;
  }
  if (vscode.extensions.getExtension(PYTHON_EXTENSION_ID) === undefined) {
    return undefined;
  }
  const { PythonExtension } = await import('@vscode/python-extension');
  api = await PythonExtension.api();
  return api;
}

export async function selectedInterpreter(resource: vscode.Uri | undefined): Promise<Interpreter> {
  let python: PythonExtension | undefined;
  try {
    python = await pythonApi();
  } catch (e) {
    return { reason: `the Python extension failed to answer (${e instanceof Error ? e.message : String(e)})` };
  }
  if (python === undefined) {
    return { reason: 'the Python extension (ms-python.python) is not installed' };
  }
  try {
    const envPath = python.environments.getActiveEnvironmentPath(resource);
    const env = await python.environments.resolveEnvironment(envPath);
    const exe = env?.executable.uri?.fsPath;
    if (!exe) {
      return { reason: `the selected interpreter (${envPath.path}) cannot be resolved` };
    }
    const v = env.version;
    if (v && typeof v.major === 'number' && typeof v.minor === 'number' && (v.major < 3 || (v.major === 3 && v.minor < 11))) {
      return { reason: `the selected interpreter ${exe} is Python ${v.major}.${v.minor}; taskdroid needs 3.11 or newer` };
    }
    return { path: exe };
  } catch (e) {
    return { reason: `the Python extension failed to answer (${e instanceof Error ? e.message : String(e)})` };
  }
}

/** Call `listener` when the selected interpreter changes (no-op without the Python extension). */
export async function onInterpreterChange(listener: () => void): Promise<vscode.Disposable | undefined> {
  try {
    const python = await pythonApi();
    return python?.environments.onDidChangeActiveEnvironmentPath(() => listener());
  } catch {
    return undefined;
  }
}
