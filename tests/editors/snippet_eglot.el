;;; snippet_eglot.el --- drive Emacs configured ONLY by the docs/editors.md snippet  -*- lexical-binding: t -*-
;;
;; emacs --batch --eval (package-activate-all) -l ~/.emacs.d/init.el -l snippet_eglot.el, from `/'
;; (test_docs_snippets.py).  init.el is the doc's snippet, verbatim; this file starts nothing and
;; sets no root: it opens the task file by its relative path, plays the parts of the command loop
;; that --batch lacks (post-command-hook, where eglot-ensure connects; idle timers; redisplay),
;; and records what Emacs holds.  The code action goes through the snippet's key (C-c a).

(require 'json)
(require 'cl-lib)
(defvar td-plan (let ((json-object-type 'alist) (json-array-type 'list) (json-key-type 'symbol))
                  (json-read-file (getenv "TASKDROID_E2E_PLAN"))))
(defvar td-wait (/ (alist-get 'timeout_ms td-plan) 1000.0))
(defvar td-steps nil)
(defvar td-errors nil)
(setq make-backup-files nil create-lockfiles nil)

(defun td-write ()
  (with-temp-file (getenv "TASKDROID_E2E_OUT")
    (insert (json-encode (list (cons 'steps td-steps) (cons 'errors (vconcat td-errors)))))))

(defun td-idle ()
  "Run pending idle timers (eglot's didChange, Flymake's checks): never run in --batch."
  (dolist (timer (copy-sequence timer-idle-list))
    (when (memq timer timer-idle-list) (timer-event-handler timer))))

(defun td-until (pred)
  (let ((end (+ (float-time) td-wait)))
    (while (and (not (funcall pred)) (< (float-time) end))
      (td-idle)
      (accept-process-output nil 0.02))
    (and (funcall pred) t)))

(defun td-goto (line col) (goto-char (point-min)) (forward-line (1- line)) (forward-char (1- col)))

(defun td-diags ()
  (mapcar (lambda (d)
            (let ((text (flymake-diagnostic-text d)))
              (list (cons 'line (line-number-at-pos (flymake-diagnostic-beg d) t))
                    (cons 'code (and (string-match "\\[\\([A-Z]+[0-9]+\\)\\]" text)
                                     (match-string 1 text)))
                    (cons 'message text))))
          (flymake-diagnostics)))

(defun td-has-all (expect)
  (let ((got (mapcar (lambda (d) (format "%s@%s" (alist-get 'code d) (alist-get 'line d))) (td-diags))))
    (cl-every (lambda (e) (member (format "%s@%s" (alist-get 'code e) (alist-get 'line e)) got)) expect)))

(defmacro td-step (name &rest body)
  `(let ((res (condition-case err (progn ,@body)
                (error (push (format "%s: %S" ,name err) td-errors) nil))))
     (push (cons (intern ,name) res) td-steps)
     (td-write)))

(defun td-main ()
  (find-file (alist-get 'file td-plan))          ; relative to `default-directory' (/)
  (run-window-configuration-change-hook)         ; what redisplay would run
  (run-hooks 'post-command-hook)                 ; the command loop: eglot-ensure connects here
  (let ((buf (current-buffer)) server)
    (td-step "attach"
      (let ((ok (td-until (lambda () (bound-and-true-p eglot--managed-mode)))))
        (setq server (eglot-current-server))
        (list (cons 'ok (and ok t)) (cons 'mode (format "%s" major-mode))
              (cons 'root (and server (expand-file-name (project-root (eglot--project server))))))))
    (when server
      (td-step "diagnostics"
        (let ((ok (td-until (lambda () (td-has-all (alist-get 'expect td-plan))))))
          (sit-for 0.5)
          (list (cons 'ok (and ok t)) (cons 'items (vconcat (td-diags))))))
      (td-step "hover"
        (let-alist td-plan (td-goto .hover.line .hover.col))
        (let* ((got nil) (done nil))
          (eglot-hover-eldoc-function (lambda (info &rest _) (setq got info done t)))
          (td-until (lambda () done))
          (list (cons 'ok (and got t)) (cons 'text (and got (substring-no-properties got))))))
      (td-step "definition"
        (let-alist td-plan (td-goto .hover.line .hover.col))
        (call-interactively (key-binding (kbd "M-.")))
        (let ((res (list (cons 'file buffer-file-name))))
          (switch-to-buffer buf)
          res))
      (td-step "quickfix"
        (let-alist td-plan
          (td-goto .quickfix.line .quickfix.col)
          ;; the user presses C-c a (the snippet's key) and accepts the default: the preferred fix
          (let ((last-nonmenu-event ?a))
            (cl-letf (((symbol-function 'completing-read)
                       (lambda (_prompt _coll &optional _pred _req _init _hist def &rest _) def)))
              (call-interactively (key-binding (kbd "C-c a")))))
          (eglot--signal-textDocument/didChange)
          (let ((ok (td-until
                     (lambda ()
                       (not (cl-find-if (lambda (d) (and (= (alist-get 'line d) .quickfix.line)
                                                         (equal (alist-get 'code d) .quickfix.code)))
                                        (td-diags)))))))
            (td-goto .quickfix.line 1)
            (list (cons 'ok (and ok t))
                  (cons 'after (buffer-substring-no-properties (line-beginning-position)
                                                              (line-end-position)))))))
      (td-step "completion"
        (let-alist td-plan
          (td-goto .completion.line 1)
          (delete-region (line-beginning-position) (line-end-position))
          (insert .completion.text)
          (eglot--signal-textDocument/didChange)
          (let* ((res (run-hook-with-args-until-success 'completion-at-point-functions))
                 (words (and res (all-completions "" (nth 2 res)))))
            (list (cons 'ok (and words t))
                  (cons 'words (vconcat (mapcar #'substring-no-properties words))))))))))

(condition-case err (td-main) (error (push (format "driver: %S" err) td-errors)))
(td-write)
(ignore-errors (let ((s (eglot-current-server))) (when s (eglot-shutdown s))))
(kill-emacs 0)
