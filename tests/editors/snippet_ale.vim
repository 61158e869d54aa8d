" Drives Vim configured ONLY by docs/editors.md's vim-ale snippet (test_docs_snippets.py): the
" snippet is ~/.vimrc of a fresh HOME, Vim was started from `/` with the task file on its command
" line (a relative path), and nothing here starts or roots the server — ALE, as the snippet set it
" up, must. This file waits and records what the editor holds, going through the snippet's own
" keys (K, gd, <leader>ca) and omnifunc. The one stand-in: ALE asks which code action to apply
" with input(), which this script answers by picking the entry for the planned quick fix, as a
" user typing its number would.
"
" Environment: TASKDROID_E2E_PLAN (JSON: see test_docs_snippets.py), TASKDROID_E2E_OUT.

let s:plan = json_decode(join(readfile($TASKDROID_E2E_PLAN), "\n"))
let s:wait_ms = s:plan.timeout_ms
let s:R = {'steps': {}, 'errors': []}
let s:buf = bufnr('')

function! s:Write() abort
  call writefile([json_encode(s:R)], $TASKDROID_E2E_OUT)
endfunction

" Sleep in small steps (timers and channel messages run while Vim sleeps) until cond() holds.
function! s:Wait(cond) abort
  let l:waited = 0
  while l:waited < s:wait_ms
    if a:cond()
      return v:true
    endif
    sleep 20m
    let l:waited += 20
  endwhile
  return a:cond()
endfunction

function! s:Step(name, fn) abort
  try
    let s:R.steps[a:name] = a:fn()
  catch
    let s:R.steps[a:name] = {'error': v:exception . ' @ ' . v:throwpoint}
    call add(s:R.errors, a:name . ': ' . v:exception . ' @ ' . v:throwpoint)
  endtry
  call s:Write()
endfunction

function! s:Diags() abort
  let l:out = []
  for l:d in ale#engine#GetLoclist(s:buf)
    if get(l:d, 'linter_name', '') is# 'taskdroid'
      call add(l:out, {'line': l:d.lnum, 'code': get(l:d, 'code', v:null), 'text': l:d.text})
    endif
  endfor
  return l:out
endfunction

function! s:HasAll() abort
  let l:got = {}
  for l:d in s:Diags()
    let l:got[l:d.code . '@' . l:d.line] = 1
  endfor
  for l:e in s:plan.expect
    if !has_key(l:got, l:e.code . '@' . l:e.line)
      return v:false
    endif
  endfor
  return v:true
endfunction

function! s:Cursor(line, col) abort
  call cursor(a:line, a:col)
endfunction

function! s:Attach() abort
  let l:ok = s:Wait({-> !empty(s:Diags())})
  return {'ok': l:ok, 'root': TaskdroidRoot(s:buf), 'file': expand('%:p'), 'cwd': getcwd(),
  \       'linters': map(ale#linter#Get(&filetype), 'v:val.name')}
endfunction

function! s:Diagnostics() abort
  let l:ok = s:Wait(function('s:HasAll'))
  sleep 500m  " anything extra the server would add
  return {'ok': l:ok, 'items': s:Diags()}
endfunction

function! s:Keys() abort
  return {'K': maparg('K', 'n'), 'gd': maparg('gd', 'n'), 'ca': maparg('\ca', 'n'),
  \       'omnifunc': &omnifunc}
endfunction

function! s:PreviewLines() abort
  for l:w in range(1, winnr('$'))
    if getwinvar(l:w, '&previewwindow')
      return getbufline(winbufnr(l:w), 1, '$')
    endif
  endfor
  return []
endfunction

function! s:Hover() abort
  call s:Cursor(s:plan.hover.line, s:plan.hover.col)
  " a one-line hover is echoed, a longer one opens the preview window: catch both
  let g:taskdroid_e2e_echo = ''
  redir => g:taskdroid_e2e_echo
  normal K
  let l:ok = s:Wait({-> !empty(s:PreviewLines()) || g:taskdroid_e2e_echo =~# '\S'})
  redir END
  let l:text = join(s:PreviewLines(), "\n") . g:taskdroid_e2e_echo
  pclose
  return {'ok': l:ok, 'text': l:text}
endfunction

function! s:Definition() abort
  call s:Cursor(s:plan.hover.line, s:plan.hover.col)
  normal gd
  let l:ok = s:Wait({-> bufnr('') != s:buf})
  let l:res = {'ok': l:ok, 'file': expand('%:p'), 'line': line('.')}
  execute 'buffer' s:buf
  return l:res
endfunction

" The stand-ins below replace functions of ALE's autoload/ale/util.vim: load it first, so that
" its own definitions do not come back over them.
call ale#util#Mode()

" Completion runs in Insert mode, which a script cannot enter: while the completion step runs,
" ALE's mode check answers 'i', as it would after the user typed <C-x><C-o>.
let s:insert_mode = v:false
function! ale#util#Mode(...) abort
  return s:insert_mode ? 'i' : call('mode', a:000)
endfunction

" ALE lists the code actions and reads a number with ale#util#Input (input()); answer with the
" entry whose title names the planned fix — the first one offered for that diagnostic.
let s:offered = []
function! ale#util#Input(message, value, ...) abort
  let l:pick = ''
  for l:line in split(a:message, "\n")
    let l:m = matchlist(l:line, '^\(\d\+\)) \(.*\)$')
    if !empty(l:m)
      call add(s:offered, l:m[2])
      if l:pick is# '' && l:m[2] =~# '^Change marker to '
        let l:pick = l:m[1]
      endif
    endif
  endfor
  return l:pick
endfunction

function! s:Fixed() abort
  let l:Q = s:plan.quickfix
  if getbufline(s:buf, l:Q.line)[0] is# l:Q.before
    return v:false
  endif
  for l:d in s:Diags()
    if l:d.line == l:Q.line && l:d.code is# l:Q.code
      return v:false
    endif
  endfor
  return v:true
endfunction

function! s:Quickfix() abort
  let l:Q = s:plan.quickfix
  call s:Cursor(l:Q.line, l:Q.col)
  execute "normal \\ca"
  let l:edited = s:Wait({-> getbufline(s:buf, l:Q.line)[0] isnot# l:Q.before})
  " Vim fires TextChanged from its main loop, which -es never enters: fire it as typing would,
  " so that ALE sends the change and the server answers with the new diagnostics
  if l:edited
    doautocmd <nomodeline> TextChanged
  endif
  let l:ok = l:edited && s:Wait(function('s:Fixed'))
  return {'ok': l:ok, 'offered': s:offered, 'after': getbufline(s:buf, l:Q.line)[0]}
endfunction

function! s:Completion() abort
  let l:P = s:plan.completion
  call setline(l:P.line, l:P.text)
  call cursor(l:P.line, len(l:P.text) + 1)
  " what <C-x><C-o> does: call the omnifunc for the start, then for the matches
  let l:Omni = function(&omnifunc)
  let s:insert_mode = v:true
  try
    let l:start = l:Omni(1, '')
    let l:words = []
    " the second call waits for the answer without a time limit: wait here first, bounded
    if l:start >= 0 && s:Wait({-> ale#completion#GetCompletionResult() isnot v:null})
      for l:item in l:Omni(0, '')
        call add(l:words, type(l:item) == v:t_dict ? l:item.word : l:item)
      endfor
    endif
  finally
    let s:insert_mode = v:false
  endtry
  return {'ok': !empty(l:words), 'start': l:start, 'words': l:words}
endfunction

function! s:Main() abort
  call s:Step('attach', function('s:Attach'))
  if !s:R.steps.attach.ok
    return
  endif
  call s:Step('diagnostics', function('s:Diagnostics'))
  call s:Step('keys', function('s:Keys'))
  call s:Step('hover', function('s:Hover'))
  call s:Step('definition', function('s:Definition'))
  call s:Step('quickfix', function('s:Quickfix'))
  call s:Step('completion', function('s:Completion'))
endfunction

try
  call s:Main()
catch
  call add(s:R.errors, 'driver: ' . v:exception . ' @ ' . v:throwpoint)
endtry
call ale#lsp#StopAll()
call s:Write()
qall!
