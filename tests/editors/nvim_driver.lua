-- Headless Neovim end-to-end driver for `taskdroid lsp` (run by test_neovim.py).
--
--   nvim --headless -u NONE -i NONE -n -c 'lua …pcall(dofile, TASKDROID_E2E_DRIVER)…'
--
-- Written for Neovim 0.7 (Debian bookworm): no vim.lsp.start (0.8), no `nvim -l` (0.9), so the
-- client is started with vim.lsp.start_client and attached with vim.lsp.buf_attach_client.
--
-- Environment:
--   TASKDROID_LSP_CMD   the server command, a JSON array (e.g. [python, "-m", "taskdroid", "lsp"])
--   TASKDROID_E2E_PLAN  a JSON file: workspace root, positions and expectations (editor_e2e.py)
--   TASKDROID_E2E_OUT   where the results are written (JSON)
--
-- The driver only waits (on conditions, never fixed sleeps) and records what the EDITOR holds:
-- vim.diagnostic entries, the lines of the hover float, where the definition jump put the
-- cursor, the completion words Neovim's omnifunc would offer, the buffer text after accepting
-- one. The pytest side does the asserting. Every wait is bounded by plan.timeout_ms.

local uv = vim.loop
local T0 = uv.hrtime()
local function now_ms() return math.floor((uv.hrtime() - T0) / 1e6) end

local function read_file(path)
  local f = assert(io.open(path, 'rb'))
  local s = f:read('*a')
  f:close()
  return s
end

local plan = vim.fn.json_decode(read_file(os.getenv('TASKDROID_E2E_PLAN')))
local ROOT = plan.root
local WAIT = plan.timeout_ms or 20000

local R = {
  editor = 'neovim',
  version = tostring(vim.version().major) .. '.' .. vim.version().minor .. '.' .. vim.version().patch,
  steps = {},
  notifications = {},
  server_messages = {},
  errors = {},
}

local function write_results()
  R.total_ms = now_ms()
  local f = assert(io.open(os.getenv('TASKDROID_E2E_OUT'), 'wb'))
  f:write(vim.fn.json_encode(R))
  f:close()
end

-- vim.notify is where Neovim reports handler problems (bad offset encoding, failed requests…)
vim.notify = function(msg, level)
  table.insert(R.notifications, { level = level or vim.log.levels.INFO, message = tostring(msg) })
end

-- -- the client ----------------------------------------------------------------------------------
local exited
local published = {} -- file name → number of publishDiagnostics received
local responded = {} -- method → number of responses handled

local function wrap_handler(method, record)
  local orig = vim.lsp.handlers[method]
  vim.lsp.handlers[method] = function(err, result, ctx, config)
    pcall(record, err, result, ctx)
    if orig then return orig(err, result, ctx, config) end
  end
end

wrap_handler('textDocument/publishDiagnostics', function(_, result)
  local name = vim.fn.resolve(vim.uri_to_fname(result.uri))
  published[name] = (published[name] or 0) + 1
end)
for _, m in ipairs({ 'textDocument/hover', 'textDocument/definition' }) do
  wrap_handler(m, function(err)
    responded[m] = (responded[m] or 0) + 1
    if err then table.insert(R.errors, m .. ': ' .. vim.inspect(err)) end
  end)
end
wrap_handler('window/showMessage', function(_, result)
  table.insert(R.server_messages, { type = result.type, message = result.message })
end)

local cmd = vim.fn.json_decode(os.getenv('TASKDROID_LSP_CMD'))
local client_id = vim.lsp.start_client({
  name = 'taskdroid',
  cmd = cmd,
  cmd_cwd = ROOT,
  root_dir = ROOT,
  workspace_folders = { { uri = vim.uri_from_fname(ROOT), name = 'examples' } },
  on_exit = function(code, signal) exited = ('server exited: code %s, signal %s'):format(code, signal) end,
})
local function client() return vim.lsp.get_client_by_id(client_id) end

vim.o.hidden = true -- several files: :edit must not unload (didClose) the previous one
vim.o.virtualedit = 'onemore' -- the cursor may sit after the last character, as in insert mode

local buffers = {}
local function open(rel)
  if buffers[rel] then
    vim.api.nvim_set_current_buf(buffers[rel])
    return buffers[rel]
  end
  vim.cmd('edit ' .. vim.fn.fnameescape(ROOT .. '/' .. rel))
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].filetype = 'markdown' -- the languageId comes from the filetype
  vim.lsp.buf_attach_client(buf, client_id) -- didOpen goes out once initialize is answered
  buffers[rel] = buf
  return buf
end

local function wait(cond, ms)
  return vim.wait(ms or WAIT, function() return exited ~= nil or cond() end, 20) and not exited
end

local function rel_name(path)
  path = vim.fn.fnamemodify(path, ':p')
  local root = vim.fn.fnamemodify(ROOT, ':p')
  if path:sub(1, #root) == root then return path:sub(#root + 1) end
  return path
end

local function line_text(buf, lnum0)
  return vim.api.nvim_buf_get_lines(buf, lnum0, lnum0 + 1, false)[1] or ''
end

-- characters ↔ bytes (0.11 changed the signatures of vim.str_utfindex / vim.str_byteindex)
local NEW_UTF_API = vim.fn.has('nvim-0.11') == 1
local function chars_before(text, byte) -- number of characters in text:sub(1, byte)
  if NEW_UTF_API then return vim.str_utfindex(text, 'utf-32', byte, false) end
  return (vim.str_utfindex(text, byte))
end
local function byte_of(text, chars) -- byte offset of the character with 0-based index `chars`
  chars = math.min(chars, chars_before(text, #text))
  if NEW_UTF_API then return vim.str_byteindex(text, 'utf-32', chars, false) end
  return vim.str_byteindex(text, chars)
end

-- byte column → 1-based character (code point) column on that line
local function char_col(buf, lnum0, byte)
  local text = line_text(buf, lnum0)
  if byte > #text then byte = #text end
  return chars_before(text, byte) + 1
end

-- 1-based line and character column → put the cursor there (Neovim computes the LSP position)
local function set_cursor(buf, line, col)
  vim.api.nvim_win_set_cursor(0, { line, byte_of(line_text(buf, line - 1), col - 1) })
end

local function editor_diagnostics(buf)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
    table.insert(out, {
      line = d.lnum + 1,
      col = char_col(buf, d.lnum, d.col),
      end_line = (d.end_lnum or d.lnum) + 1,
      end_col = char_col(buf, d.end_lnum or d.lnum, d.end_col or d.col),
      code = code and tostring(code) or vim.NIL,
      severity = ({ 'error', 'warning', 'information', 'hint' })[d.severity] or tostring(d.severity),
      message = d.message,
    })
  end
  table.sort(out, function(a, b) return a.line < b.line or (a.line == b.line and a.col < b.col) end)
  return out
end

local function has_all(buf, expect)
  local got = {}
  for _, d in ipairs(editor_diagnostics(buf)) do got[d.code .. '@' .. d.line] = true end
  for _, e in ipairs(expect) do
    if not got[e.code .. '@' .. e.line] then return false end
  end
  return true
end

local function floats()
  local out = {}
  for _, w in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(w).relative ~= '' then table.insert(out, w) end
  end
  return out
end

local function close_floats()
  for _, w in ipairs(floats()) do pcall(vim.api.nvim_win_close, w, true) end
end

-- -- the steps ----------------------------------------------------------------------------------
local function step(name, fn)
  local t = now_ms()
  local ok, res = xpcall(fn, debug.traceback)
  if not ok then
    res = { error = tostring(res) }
    table.insert(R.errors, name .. ': ' .. tostring(res.error))
  end
  res = res or {}
  res.ms = now_ms() - t
  R.steps[name] = res
  write_results() -- keep what we have if a later step hangs
  return res
end

local function main()
  step('initialize', function()
    local ok = wait(function() return client() and client().initialized end)
    local c = client()
    local caps = c and (c.server_capabilities or c.resolved_capabilities) or {}
    return {
      ok = ok,
      exited = exited or vim.NIL,
      offset_encoding = c and c.offset_encoding or vim.NIL,
      position_encoding = caps.positionEncoding or vim.NIL,
      server = c and c.server_info or vim.NIL,
    }
  end)
  if exited or not (client() and client().initialized) then return end

  -- 1. diagnostics of the mistakes file, as vim.diagnostic holds them
  local D = plan.diagnostics
  step('diagnostics', function()
    local buf = open(D.file)
    local ok = wait(function() return has_all(buf, D.expect) end)
    return { ok = ok, file = D.file, items = editor_diagnostics(buf) }
  end)

  -- 2. a clean file: the server publishes (an empty list) for it once it is open
  local C = plan.clean
  step('clean', function()
    local buf = open(C.file)
    local name = vim.fn.resolve(vim.api.nvim_buf_get_name(buf))
    local ok = wait(function() return (published[name] or 0) > 0 end)
    return { ok = ok, file = C.file, published = published[name] or 0, items = editor_diagnostics(buf) }
  end)

  -- 3. hover: vim.lsp.buf.hover() opens a float; read the rendered lines back
  local H = plan.hover
  step('hover', function()
    local buf = open(H.file)
    close_floats()
    set_cursor(buf, H.line, H.col)
    local before = responded['textDocument/hover'] or 0
    vim.lsp.buf.hover()
    local ok = wait(function()
      return #floats() > 0 or (responded['textDocument/hover'] or 0) > before
    end)
    local lines = {}
    local win = floats()[1]
    if win then lines = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false) end
    close_floats()
    return { ok = ok and win ~= nil, file = H.file, line = H.line, col = H.col,
      text = table.concat(lines, '\n') }
  end)

  -- 4. go to definition: vim.lsp.buf.definition() jumps; read where the cursor landed
  local defs = {}
  for _, G in ipairs(plan.definitions) do
    local res = step('definition:' .. G.name, function()
      local buf = open(G.file)
      set_cursor(buf, G.line, G.col)
      local start = { buf = buf, pos = vim.api.nvim_win_get_cursor(0) }
      local before = responded['textDocument/definition'] or 0
      vim.lsp.buf.definition()
      local moved = function()
        local p = vim.api.nvim_win_get_cursor(0)
        return vim.api.nvim_get_current_buf() ~= start.buf or p[1] ~= start.pos[1] or p[2] ~= start.pos[2]
      end
      local ok = wait(function() return moved() or (responded['textDocument/definition'] or 0) > before end)
      -- the handler has run (or timed out): give a jump to another file the same chance
      ok = ok and moved()
      local cur = vim.api.nvim_get_current_buf()
      local pos = vim.api.nvim_win_get_cursor(0)
      local text = line_text(cur, pos[1] - 1)
      local out = {
        ok = ok, name = G.name, from = { file = G.file, line = G.line, col = G.col },
        file = rel_name(vim.api.nvim_buf_get_name(cur)), line = pos[1],
        col = char_col(cur, pos[1] - 1, pos[2]), line_text = text,
      }
      vim.api.nvim_set_current_buf(buf)
      return out
    end)
    res.name = G.name
    table.insert(defs, res)
  end

  -- 5. edits next to an emoji outside the BMP (🔄: 2 UTF-16 units, 4 UTF-8 bytes, 1 character):
  --    type a dependency list holding it, then change a character AFTER it. The server must apply
  --    Neovim's incremental changes at the right place (their positions are in UTF-16 units) and
  --    place its diagnostics where the text is (Neovim converts UTF-16 units to bytes).
  local A = plan.astral
  step('astral', function()
    local buf = open(A.file)
    local L = A.line
    local function on_line()
      local out = {}
      for _, d in ipairs(editor_diagnostics(buf)) do
        if d.line == L then table.insert(out, d) end
      end
      return out
    end
    local waits = {}
    for _, e in ipairs(A.edits) do
      local text = line_text(buf, L - 1)
      local b0 = e.col == 0 and #text or byte_of(text, e.col - 1)
      local b1 = e.col == 0 and #text or byte_of(text, e.col - 1 + e.delete)
      vim.api.nvim_buf_set_text(buf, L - 1, b0, L - 1, b1, { e.insert })
      table.insert(waits, wait(function()
        for _, d in ipairs(on_line()) do
          if d.code == e.wait_code and d.message:find(e.wait_text, 1, true) then return true end
        end
        return false
      end))
    end
    return { ok = not vim.tbl_contains(waits, false), waits = waits, file = A.file, line = L,
      line_text = line_text(buf, L - 1), items = on_line() }
  end)

  -- 6. completion after `**Droid**: `: blank a Droid value (the server sees the edit and flags
  --    the empty field), complete at the end of the line as the omnifunc does, accept one name
  --    and wait until the server is satisfied with the line.
  local P = plan.completion
  step('completion', function()
    local buf = open(P.file)
    local L = P.line
    vim.api.nvim_buf_set_lines(buf, L - 1, L, false, { P.text }) -- didChange (incremental)
    local function codes_on_line()
      local out = {}
      for _, d in ipairs(editor_diagnostics(buf)) do
        if d.line == L then table.insert(out, d.code) end
      end
      return out
    end
    local flagged = wait(function() return vim.tbl_contains(codes_on_line(), P.wait_code) end)
    local codes_after_edit = codes_on_line()

    local text = line_text(buf, L - 1)
    vim.api.nvim_win_set_cursor(0, { L, #text }) -- after the trailing space
    -- what lsp.omnifunc does: the keyword before the cursor is the prefix
    local pos = vim.api.nvim_win_get_cursor(0)
    local line_to_cursor = text:sub(1, pos[2])
    local start = vim.fn.match(line_to_cursor, '\\k*$')
    local prefix = line_to_cursor:sub(start + 1)
    local params = vim.lsp.util.make_position_params()
    local resp = vim.lsp.buf_request_sync(buf, 'textDocument/completion', params, WAIT) or {}
    local r = resp[client_id] or {}
    if r.err then table.insert(R.errors, 'completion: ' .. vim.inspect(r.err)) end
    local labels, words = {}, {}
    local items = r.result and (r.result.items or r.result) or {}
    for _, it in ipairs(items) do table.insert(labels, it.label) end
    -- the omnifunc's conversion to complete-items (0.7 – 0.10; 0.11 moved it to vim.lsp.completion)
    local conv = vim.lsp.util.text_document_completion_list_to_complete_items
      or (vim.lsp.completion and vim.lsp.completion._lsp_to_complete_items)
    local matches = (r.result and conv) and conv(r.result, prefix) or {}
    for _, m in ipairs(matches) do table.insert(words, m.word) end

    -- accept one: Vim's complete() replaces the prefix by the word
    local accepted, settled = vim.NIL, false
    for _, m in ipairs(matches) do
      if m.abbr == P.accept or m.word == P.accept then accepted = m.word end
    end
    if accepted ~= vim.NIL then
      vim.api.nvim_buf_set_text(buf, L - 1, start, L - 1, pos[2], { accepted })
      settled = wait(function() return #codes_on_line() == 0 end)
    end
    return {
      ok = r.result ~= nil, file = P.file, line = L, prefix = prefix,
      flagged = flagged, codes_after_edit = codes_after_edit,
      labels = labels, words = words, accepted = accepted,
      line_after = line_text(buf, L - 1), settled = settled, codes_after_accept = codes_on_line(),
    }
  end)
end

local ok, err = xpcall(main, debug.traceback) -- an uncaught error would leave nvim running
if not ok then table.insert(R.errors, 'driver: ' .. tostring(err)) end
R.published = published
if client() then pcall(vim.lsp.stop_client, client_id) end
vim.wait(5000, function() return exited ~= nil end, 20)
R.exited = exited or vim.NIL
write_results()
vim.cmd('qall!')
