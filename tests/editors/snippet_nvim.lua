-- Drives Neovim configured ONLY by a docs/editors.md snippet (test_docs_snippets.py): the snippet
-- is ~/.config/nvim/init.lua of a fresh HOME, Neovim was started from another folder with the
-- task file on its command line (a relative path), and nothing here starts or roots a client —
-- the snippet's autocommand must. This file waits and records what the editor holds, using the
-- snippet's own keys (K, gd, <leader>ca) and omnifunc setting. Neovim 0.7+.
--
-- Environment: TASKDROID_E2E_PLAN (JSON: see test_docs_snippets.py), TASKDROID_E2E_OUT.

local uv = vim.loop
local function read_file(path)
  local f = assert(io.open(path, 'rb'))
  local s = f:read('*a')
  f:close()
  return s
end
local plan = vim.fn.json_decode(read_file(os.getenv('TASKDROID_E2E_PLAN')))
local WAIT = plan.timeout_ms
local R = { steps = {}, errors = {}, notifications = {} }
local function write_results()
  local f = assert(io.open(os.getenv('TASKDROID_E2E_OUT'), 'wb'))
  f:write(vim.fn.json_encode(R))
  f:close()
end
vim.notify = function(msg, level)
  table.insert(R.notifications, { level = level or 2, message = tostring(msg) })
end

local buf = vim.api.nvim_get_current_buf()
local function clients()
  local out = {}
  for _, c in pairs(vim.lsp.buf_get_clients(buf)) do
    if c.name == 'taskdroid' then table.insert(out, c) end
  end
  return out
end
local function wait(cond) return vim.wait(WAIT, cond, 20) end
local function line_text(b, l0) return vim.api.nvim_buf_get_lines(b, l0, l0 + 1, false)[1] or '' end
local function diags()
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
    table.insert(out, { line = d.lnum + 1, code = code and tostring(code) or vim.NIL, message = d.message })
  end
  return out
end
local function has_all(expect)
  local got = {}
  for _, d in ipairs(diags()) do got[tostring(d.code) .. '@' .. d.line] = true end
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
-- 1-based line and character column (ASCII lines here)
local function cursor(line, col) vim.api.nvim_win_set_cursor(0, { line, col - 1 }) end
local function step(name, fn)
  local ok, res = xpcall(fn, debug.traceback)
  if not ok then
    res = { error = tostring(res) }
    table.insert(R.errors, name .. ': ' .. tostring(res.error))
  end
  R.steps[name] = res or {}
  write_results()
end

local function main()
  step('attach', function()
    local ok = wait(function() return #clients() > 0 and clients()[1].initialized end)
    local c = clients()[1]
    return {
      ok = ok, clients = #clients(), root_dir = c and c.config.root_dir or vim.NIL,
      file = vim.api.nvim_buf_get_name(buf), cwd = vim.fn.getcwd(),
    }
  end)
  if #clients() == 0 then return end
  step('diagnostics', function()
    local ok = wait(function() return has_all(plan.expect) end)
    vim.wait(500) -- anything extra the server would add
    return { ok = ok, items = diags() }
  end)
  step('keys', function()
    local function rhs(lhs)
      local m = vim.fn.maparg(lhs, 'n', false, true)
      return (m.rhs or m.callback) and true or false
    end
    return { K = rhs('K'), gd = rhs('gd'), ca = rhs('<leader>ca'), omnifunc = vim.bo[buf].omnifunc }
  end)
  step('hover', function()
    cursor(plan.hover.line, plan.hover.col)
    vim.cmd('normal K') -- the snippet's key
    local ok = wait(function() return #floats() > 0 end)
    local lines = {}
    if floats()[1] then lines = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(floats()[1]), 0, -1, false) end
    for _, w in ipairs(floats()) do pcall(vim.api.nvim_win_close, w, true) end
    return { ok = ok, text = table.concat(lines, '\n') }
  end)
  step('definition', function()
    cursor(plan.hover.line, plan.hover.col)
    vim.cmd('normal gd')
    local ok = wait(function() return vim.api.nvim_get_current_buf() ~= buf end)
    local res = { ok = ok, file = vim.api.nvim_buf_get_name(0), line = vim.api.nvim_win_get_cursor(0)[1] }
    vim.api.nvim_set_current_buf(buf)
    return res
  end)
  step('quickfix', function()
    local Q = plan.quickfix
    cursor(Q.line, Q.col)
    local offered = {}
    vim.ui.select = function(items, _, on_choice) -- the user picks the preferred quick fix
      local pick
      for i, item in ipairs(items) do
        local action = item.action or item[2] or item
        table.insert(offered, action.title or '?')
        if action.kind == 'quickfix' and (pick == nil or action.isPreferred) then pick = i end
      end
      on_choice(pick and items[pick], pick)
    end
    vim.cmd('normal \\ca') -- <leader>ca with the default leader
    local function fixed()
      if line_text(buf, Q.line - 1) == Q.before then return false end
      for _, d in ipairs(diags()) do
        if d.line == Q.line and d.code == Q.code then return false end
      end
      return true
    end
    local ok = wait(fixed)
    return { ok = ok, offered = offered, after = line_text(buf, Q.line - 1) }
  end)
  step('completion', function()
    local P = plan.completion
    vim.api.nvim_buf_set_lines(buf, P.line - 1, P.line, false, { P.text })
    vim.api.nvim_win_set_cursor(0, { P.line, #P.text })
    local params = vim.lsp.util.make_position_params()
    local resp = vim.lsp.buf_request_sync(buf, 'textDocument/completion', params, WAIT) or {}
    local words = {}
    for _, r in pairs(resp) do
      local conv = vim.lsp.util.text_document_completion_list_to_complete_items
        or (vim.lsp.completion and vim.lsp.completion._lsp_to_complete_items)
      for _, m in ipairs((r.result and conv) and conv(r.result, '') or {}) do table.insert(words, m.word) end
    end
    return { ok = #words > 0, words = words }
  end)
end

local ok, err = xpcall(main, debug.traceback)
if not ok then table.insert(R.errors, 'driver: ' .. tostring(err)) end
for _, c in ipairs(vim.lsp.get_active_clients()) do pcall(c.stop) end
vim.wait(3000, function() return #vim.lsp.get_active_clients() == 0 end, 20)
write_results()
vim.cmd('qall!')
