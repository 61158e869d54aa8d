;;; eglot_driver.el --- Emacs + eglot end-to-end driver for `taskdroid lsp'  -*- lexical-binding: t -*-
;;
;;   emacs --batch -Q -l eglot_driver.el      (run by test_emacs.py)
;;
;; eglot is built into Emacs 29+.  Debian bookworm has Emacs 28.2, where eglot comes from the
;; Debian package elpa-eglot (1.9, in /usr/share/emacs/site-lisp/elpa, which -Q skips: we add it to
;; `package-directory-list').  When eglot cannot be loaded the driver writes {"skip": reason}.
;;
;; Environment:
;;   TASKDROID_LSP_CMD   the server command, a JSON array
;;   TASKDROID_E2E_PLAN  a JSON file: workspace root, positions and expectations (editor_e2e.py)
;;   TASKDROID_E2E_OUT   where the results are written (JSON)
;;
;; The driver waits on conditions (never fixed sleeps), each bounded by the plan's timeout_ms,
;; and records what EMACS holds: Flymake diagnostics, the text eglot's eldoc hover function
;; renders, where `xref-find-definitions' puts point, the candidates of
;; `completion-at-point-functions' and the buffer after accepting one.  Idle timers never run in
;; --batch, so after an edit the driver sends didChange itself, as eglot's idle timer would.

(require 'package)
(require 'cl-lib)
(require 'json)
(require 'subr-x)

(defvar td-t0 (float-time))
(defun td-ms () (round (* 1000 (- (float-time) td-t0))))

(defvar td-out (getenv "TASKDROID_E2E_OUT"))
(defvar td-results (list (cons 'editor "emacs") (cons 'version emacs-version)))
(defvar td-steps nil)
(defvar td-errors nil)
(defvar td-server-messages nil)
(defvar td-published (make-hash-table :test 'equal))

(defun td-set (key value) (setf (alist-get key td-results) value))

(defun td-json (value)
  (let ((json-encoding-pretty-print nil)
        (json-false :json-false)
        (json-null nil))
    (json-encode value)))

(defun td-write ()
  (td-set 'total_ms (td-ms))
  (td-set 'steps (or (reverse td-steps) (make-hash-table)))
  (td-set 'errors (vconcat (reverse td-errors)))
  (td-set 'server_messages (vconcat (reverse td-server-messages)))
  (let ((pub (make-hash-table :test 'equal)))
    (maphash (lambda (k v) (puthash k v pub)) td-published)
    (td-set 'published pub))
  (with-temp-file td-out
    (set-buffer-file-coding-system 'utf-8)
    (insert (td-json td-results))))

(defun td-bool (x) (if x t :json-false))

;; -- eglot --------------------------------------------------------------------------------------
(add-to-list 'package-directory-list "/usr/share/emacs/site-lisp/elpa")
(setq package-user-dir (expand-file-name "elpa" (or (getenv "HOME") temporary-file-directory)))
(package-initialize)
(unless (require 'eglot nil t)
  (td-set 'skip (format "eglot is not available in Emacs %s (Emacs 29+ has it built in; on Emacs 28 install Debian's elpa-eglot)" emacs-version))
  (td-write)
  (kill-emacs 0))
(require 'xref)
(require 'flymake)
(td-set 'eglot_version
        (or (ignore-errors (package-version-join (package-desc-version (cadr (assq 'eglot package-alist)))))
            (and (boundp 'eglot-version) eglot-version)
            "built-in"))

(defvar td-plan (let ((json-object-type 'alist) (json-array-type 'list) (json-key-type 'symbol))
                  (json-read-file (getenv "TASKDROID_E2E_PLAN"))))
(defun td-plan (&rest keys)
  (let ((v td-plan)) (dolist (k keys v) (setq v (alist-get k v)))))
(defvar td-root (file-name-as-directory (td-plan 'root)))
(defvar td-wait (/ (or (td-plan 'timeout_ms) 20000) 1000.0))
(defvar td-cmd (let ((json-array-type 'list)) (json-read-from-string (getenv "TASKDROID_LSP_CMD"))))

;; languageId "markdown" comes from the mode's name.  markdown-mode is not built in: use it when
;; installed, otherwise a stub derived from text-mode.
(unless (fboundp 'markdown-mode) (define-derived-mode markdown-mode text-mode "Markdown"))
(add-to-list 'auto-mode-alist '("\\.md\\'" . markdown-mode))
(add-hook 'project-find-functions (lambda (_dir) (cons 'transient td-root)))
(setq eglot-server-programs `((markdown-mode . ,td-cmd))
      eglot-autoshutdown nil
      eglot-sync-connect nil
      ;; keep batch output readable
      eldoc-echo-area-use-multiline-p nil
      make-backup-files nil
      create-lockfiles nil)

(defun td-uri-to-path (uri)
  (funcall (if (fboundp 'eglot-uri-to-path) 'eglot-uri-to-path 'eglot--uri-to-path) uri))

(advice-add 'eglot-handle-notification :before
            (lambda (_server method &rest params)
              (pcase method
                ('textDocument/publishDiagnostics
                 (let ((path (file-truename (td-uri-to-path (plist-get params :uri)))))
                   (puthash path (1+ (gethash path td-published 0)) td-published)))
                ('window/showMessage
                 (push (list (cons 'type (plist-get params :type))
                             (cons 'message (plist-get params :message)))
                       td-server-messages)))))

(defvar td-server nil)
(defun td-live-p () (and td-server (jsonrpc-running-p td-server)))

(defun td-until (pred &optional seconds)
  "Let process output in until PRED holds (or the server died, or SECONDS passed)."
  (let ((end (+ (float-time) (or seconds td-wait))))
    (while (and (not (funcall pred)) (< (float-time) end)
                (or (null td-server) (td-live-p)))
      (accept-process-output nil 0.02))
    (and (funcall pred) t)))

(defun td-idle ()
  "Run the pending idle timers, as Emacs does once the user stops typing (never in --batch):
eglot sends didChange from one, Flymake starts a check from another."
  (dolist (timer (copy-sequence timer-idle-list))
    (when (memq timer timer-idle-list)
      (timer-event-handler timer))))

(defvar td-buffers nil)
(defun td-open (rel)
  (let ((buf (find-file-noselect (expand-file-name rel td-root))))
    ;; Show it in a window, as find-file does; then run what redisplay would run: Flymake waits
    ;; for a buffer to be displayed (window-configuration-change-hook) before its first check, and
    ;; eglot's eldoc hover only answers visible buffers.  Redisplay never happens in --batch.
    (switch-to-buffer buf)
    (run-window-configuration-change-hook)
    (unless (eq major-mode 'markdown-mode) (markdown-mode))
    (unless td-server
      (apply #'eglot (eglot--guess-contact)) ; connects asynchronously (eglot-sync-connect nil)
      (td-until (lambda () (eglot-current-server)))
      (setq td-server (eglot-current-server)))
    (td-until (lambda () (bound-and-true-p eglot--managed-mode)))
    (push (cons rel buf) td-buffers)
    buf))

(defun td-goto (line col)
  (goto-char (point-min))
  (forward-line (1- line))
  (forward-char (1- col)))

(defun td-col (pos) "1-based character column of POS."
  (save-excursion (goto-char pos) (1+ (- pos (line-beginning-position)))))

(defun td-diags ()
  (let (out)
    (dolist (d (flymake-diagnostics))
      (let* ((lsp (alist-get 'eglot-lsp-diag (flymake-diagnostic-data d)))
             (text (flymake-diagnostic-text d))
             (code (or (and lsp (plist-get lsp :code))
                       (and (string-match "\\[\\([^]]+\\)\\]" text) (match-string 1 text))))
             (beg (flymake-diagnostic-beg d)) (end (flymake-diagnostic-end d)))
        (push (list (cons 'line (line-number-at-pos beg t))
                    (cons 'col (td-col beg))
                    (cons 'end_line (line-number-at-pos end t))
                    (cons 'end_col (td-col end))
                    (cons 'code (and code (format "%s" code)))
                    (cons 'severity (pcase (flymake-diagnostic-type d)
                                      ('eglot-error "error") ('eglot-warning "warning")
                                      ('eglot-note "note") (x (format "%s" x))))
                    (cons 'message text))
              out)))
    (sort out (lambda (a b) (or (< (alist-get 'line a) (alist-get 'line b))
                                (and (= (alist-get 'line a) (alist-get 'line b))
                                     (< (alist-get 'col a) (alist-get 'col b))))))))

(defun td-has-all (expect)
  (let ((got (mapcar (lambda (d) (format "%s@%s" (alist-get 'code d) (alist-get 'line d))) (td-diags))))
    (cl-every (lambda (e) (member (format "%s@%s" (alist-get 'code e) (alist-get 'line e)) got)) expect)))

(defun td-step (name fn)
  (let ((t0 (td-ms)) res)
    (condition-case err
        (setq res (funcall fn))
      (error (setq res (list (cons 'error (format "%S" err))))
             (push (format "%s: %S" name err) td-errors)))
    (setq res (append res (list (cons 'ms (- (td-ms) t0)))))
    (push (cons (intern name) res) td-steps)
    (td-write)
    res))

(defun td-rel (file)
  (let ((f (expand-file-name file)) (r (expand-file-name td-root)))
    (if (string-prefix-p r f) (substring f (length r)) f)))

(defun td-line-text ()
  (buffer-substring-no-properties (line-beginning-position) (line-end-position)))

;; -- the steps ----------------------------------------------------------------------------------
(defun td-main ()
  ;; 0. start: eglot connects asynchronously; wait for the initialize answer
  (td-step "initialize"
   (lambda ()
     (td-open (td-plan 'diagnostics 'file))
     (let ((ok (td-until (lambda () (and (td-live-p) (eglot--capabilities td-server))))))
       (list (cons 'ok (td-bool ok))
             (cons 'server (format "%s" (and td-server (eglot--server-info td-server))))
             (cons 'position_encoding
                   (and td-server (plist-get (eglot--capabilities td-server) :positionEncoding)))))))
  (when (td-live-p)
    ;; 1. diagnostics of the mistakes file, as Flymake holds them
    (td-step "diagnostics"
     (lambda ()
       (with-current-buffer (td-open (td-plan 'diagnostics 'file))
         (let* ((expect (td-plan 'diagnostics 'expect))
                (ok (td-until (lambda () (td-has-all expect)))))
           (list (cons 'ok (td-bool ok)) (cons 'file (td-plan 'diagnostics 'file))
                 (cons 'items (vconcat (td-diags))))))))

    ;; 2. a clean file: the server publishes (an empty list) for it once it is open
    (td-step "clean"
     (lambda ()
       (with-current-buffer (td-open (td-plan 'clean 'file))
         (let* ((path (file-truename buffer-file-name))
                (ok (td-until (lambda () (> (gethash path td-published 0) 0)))))
           (list (cons 'ok (td-bool ok)) (cons 'file (td-plan 'clean 'file))
                 (cons 'published (gethash path td-published 0))
                 (cons 'items (vconcat (td-diags))))))))

    ;; 3. hover: what eglot's eldoc function renders at point
    (td-step "hover"
     (lambda ()
       (with-current-buffer (td-open (td-plan 'hover 'file))
         (td-goto (td-plan 'hover 'line) (td-plan 'hover 'col))
         (let* ((got nil) (done nil)
                (ok (progn
                      (eglot-hover-eldoc-function
                       (lambda (info &rest _) (setq got info done t)))
                      (td-until (lambda () done)))))
           (list (cons 'ok (td-bool (and ok got))) (cons 'line (td-plan 'hover 'line))
                 (cons 'col (td-plan 'hover 'col))
                 (cons 'text (and got (substring-no-properties got))))))))

    ;; 4. go to definition: xref-find-definitions jumps (one result)
    (dolist (g (td-plan 'definitions))
      (let ((name (alist-get 'name g)))
        (td-step (concat "definition:" name)
         (lambda ()
           (let ((buf (td-open (alist-get 'file g))))
             (with-current-buffer buf
               (td-goto (alist-get 'line g) (alist-get 'col g))
               (let ((start (point)))
                 (xref-find-definitions (xref-backend-identifier-at-point (xref-find-backend)))
                 ;; xref jumps synchronously (eglot's request is synchronous)
                 (let* ((moved (or (not (eq (current-buffer) buf)) (/= (point) start)))
                        (out (list (cons 'ok (td-bool moved)) (cons 'name name)
                                   (cons 'from (list (cons 'file (alist-get 'file g))
                                                     (cons 'line (alist-get 'line g))
                                                     (cons 'col (alist-get 'col g))))
                                   (cons 'file (td-rel buffer-file-name))
                                   (cons 'line (line-number-at-pos (point) t))
                                   (cons 'col (td-col (point)))
                                   (cons 'line_text (td-line-text)))))
                   (switch-to-buffer buf)
                   (goto-char start)
                   out))))))))

    ;; 5. edits next to an emoji outside the BMP (🔄: 2 UTF-16 units, 1 Emacs character): type a
    ;;    dependency list holding it, then change a character AFTER it.  The server must apply
    ;;    eglot's incremental changes at the right place (their positions are in UTF-16 units with
    ;;    eglot 1.9) and place its diagnostics where the text is.
    (td-step "astral"
     (lambda ()
       (with-current-buffer (td-open (td-plan 'astral 'file))
         (let* ((L (td-plan 'astral 'line))
                (on-line (lambda () (cl-remove-if-not (lambda (d) (= (alist-get 'line d) L))
                                                      (td-diags))))
                waits)
           (dolist (e (td-plan 'astral 'edits))
             (if (= (alist-get 'col e) 0)
                 (progn (td-goto L 1) (end-of-line))
               (td-goto L (alist-get 'col e)))
             (delete-char (alist-get 'delete e))
             (insert (alist-get 'insert e))
             (td-idle) ; the user pauses: eglot sends didChange, Flymake re-checks
             (push (td-until
                    (lambda () (cl-some (lambda (d) (and (equal (alist-get 'code d) (alist-get 'wait_code e))
                                                         (string-match-p (regexp-quote (alist-get 'wait_text e))
                                                                         (alist-get 'message d))))
                                        (funcall on-line))))
                   waits))
           (setq waits (nreverse waits))
           (td-goto L 1)
           (list (cons 'ok (td-bool (not (memq nil waits)))) (cons 'waits (vconcat (mapcar #'td-bool waits)))
                 (cons 'file (td-plan 'astral 'file)) (cons 'line L)
                 (cons 'line_text (td-line-text)) (cons 'items (vconcat (funcall on-line))))))))

    ;; 6. completion after `**Droid**: ': blank a Droid value (the server must see the edit and
    ;;    flag the empty field), ask `completion-at-point-functions' at the end of the line,
    ;;    accept one name as `completion-at-point' does (insert, then :exit-function) and wait
    ;;    until the server is satisfied with the line.
    (td-step "completion"
     (lambda ()
       (with-current-buffer (td-open (td-plan 'completion 'file))
         (let* ((L (td-plan 'completion 'line))
                (codes (lambda () (delq nil (mapcar (lambda (d) (and (= (alist-get 'line d) L)
                                                                     (alist-get 'code d)))
                                                    (td-diags)))))
                flagged codes-after-edit res start end coll props prefix words accepted settled)
           (td-goto L 1)
           (delete-region (line-beginning-position) (line-end-position))
           (insert (td-plan 'completion 'text))
           (td-idle) ; the user pauses: eglot sends didChange, Flymake re-checks
           (setq flagged (td-until (lambda () (member (td-plan 'completion 'wait_code) (funcall codes)))))
           (setq codes-after-edit (funcall codes))
           (end-of-line)
           (setq res (run-hook-with-args-until-success 'completion-at-point-functions))
           (when res
             (setq start (nth 0 res) end (nth 1 res) coll (nth 2 res) props (nthcdr 3 res))
             (setq prefix (buffer-substring-no-properties start (point)))
             (setq words (all-completions prefix coll))
             (let ((pick (cl-find (td-plan 'completion 'accept) words :test #'string=)))
               (when pick
                 (delete-region start end)
                 (goto-char start)
                 (insert pick)
                 (when (plist-get props :exit-function)
                   (funcall (plist-get props :exit-function) pick 'finished))
                 (setq accepted (substring-no-properties pick))
                 (td-idle)
                 (setq settled (td-until (lambda () (null (funcall codes))))))))
           (td-goto L 1)
           (list (cons 'ok (td-bool res)) (cons 'file (td-plan 'completion 'file)) (cons 'line L)
                 (cons 'prefix prefix) (cons 'flagged (td-bool flagged))
                 (cons 'codes_after_edit (vconcat codes-after-edit))
                 (cons 'labels (vconcat (mapcar #'substring-no-properties words)))
                 (cons 'words (vconcat (mapcar #'substring-no-properties words)))
                 (cons 'accepted accepted)
                 (cons 'line_after (td-line-text))
                 (cons 'settled (td-bool settled))
                 (cons 'codes_after_accept (vconcat (funcall codes))))))))))

(condition-case err
    (td-main)
  (error (push (format "driver: %S" err) td-errors)))
(let ((events (and td-server (ignore-errors (jsonrpc-events-buffer td-server)))))
  (when (and events (getenv "TASKDROID_E2E_EVENTS"))
    (with-current-buffer events
      (write-region (point-min) (point-max) (getenv "TASKDROID_E2E_EVENTS") nil 'silent))))
(when (td-live-p)
  (ignore-errors (eglot-shutdown td-server)))
(td-set 'exited (td-bool (not (td-live-p))))
(td-write)
(kill-emacs 0)
