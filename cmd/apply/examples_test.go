package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/apply-cli/apply/pkg/spec"
)

// TestWorkflowExampleCommandsParse checks that every apply command line in
// the GitHub Actions example is valid for the current flags, so that the
// example cannot drift from the command.
func TestWorkflowExampleCommandsParse(t *testing.T) {
	path := filepath.Join("..", "..", "examples", "github-actions", "connections.yml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := workflowApplyCommands(string(data))
	if len(lines) < 2 {
		t.Fatalf("found %d apply command lines in %s, want the plan and apply steps:\n%q", len(lines), path, lines)
	}

	// The plan step passes its mode flags through a shell array, and the
	// apply step the flags of a run by hand. Every value they can take is
	// checked.
	arrays := map[string][]string{
		`"${mode[@]}"`:  {"--refresh=true", "--refresh=false --allow-unresolved"},
		`"${flags[@]}"`: {"", "--prune --allow-replace --update-secrets"},
	}
	for _, line := range lines {
		variants := []string{line}
		for array, values := range arrays {
			if !strings.Contains(line, array) {
				continue
			}
			variants = nil
			for _, v := range values {
				variants = append(variants, strings.Replace(line, array, v, 1))
			}
		}
		for _, v := range variants {
			args := strings.Fields(v)[1:] // drop "apply"
			if problems := checkCommandLine(args); len(problems) > 0 {
				t.Errorf("%s: %q is invalid:\n%s", path, v, strings.Join(problems, "\n"))
			}
		}
	}
}

// workflowStep is one step of a GitHub Actions job.
type workflowStep struct {
	Name string            `yaml:"name"`
	ID   string            `yaml:"id"`
	If   string            `yaml:"if"`
	Env  map[string]string `yaml:"env"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
}

// workflowJob is one job of a GitHub Actions workflow.
type workflowJob struct {
	If          string `yaml:"if"`
	Concurrency struct {
		Group            string `yaml:"group"`
		CancelInProgress *bool  `yaml:"cancel-in-progress"`
	} `yaml:"concurrency"`
	Steps []workflowStep `yaml:"steps"`
}

// step returns the step named name, or fails the test.
func (j workflowJob) step(t *testing.T, name string) workflowStep {
	t.Helper()
	for _, s := range j.Steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("the workflow example has no step %q", name)
	return workflowStep{}
}

// TestWorkflowExample checks the safety properties of the GitHub Actions
// example that a copy of it relies on.
func TestWorkflowExample(t *testing.T) {
	jobs := loadWorkflowJobs(t)
	planJob, applyJob := jobs["plan"], jobs["apply"]
	plan := planJob.step(t, "Plan")
	applyStep := applyJob.step(t, "Apply")

	t.Run("every manifest variable is mapped", func(t *testing.T) {
		// The example manifests stand in for the user's: a plan or apply
		// fails on a variable missing from the step's env.
		for _, name := range exampleVariables(t) {
			if _, ok := plan.Env[name]; !ok {
				t.Errorf("the Plan step's env lacks %s, which the example manifests reference", name)
			}
			if _, ok := applyStep.Env[name]; !ok {
				t.Errorf("the Apply step's env lacks %s, which the example manifests reference", name)
			}
		}
	})

	t.Run("plan reads the base branch's lock file", func(t *testing.T) {
		if !strings.Contains(plan.Run, `git show HEAD^1:apply.lock.json >"$base_lock"`) {
			t.Errorf("the Plan step does not extract the base branch's lock file:\n%s", plan.Run)
		}
		if !strings.Contains(plan.Run, `--lock "$base_lock"`) {
			t.Errorf("the Plan step does not plan with --lock \"$base_lock\":\n%s", plan.Run)
		}
		if depth := planJob.Steps[0].With["fetch-depth"]; depth != "2" {
			t.Errorf("the plan job checks out with fetch-depth %q, want 2, so that HEAD^1 is the base branch", depth)
		}
	})

	t.Run("a changed lock file fails the pull request", func(t *testing.T) {
		check := planJob.step(t, "Check whether the pull request changes apply.lock.json")
		if !strings.Contains(check.Run, "git diff --quiet HEAD^1 HEAD -- apply.lock.json") {
			t.Errorf("the check does not compare apply.lock.json with the base branch:\n%s", check.Run)
		}
		fail := planJob.step(t, "Fail when the pull request changes apply.lock.json")
		if !strings.Contains(fail.If, "steps."+check.ID+".outputs.changed == 'true'") || !strings.Contains(fail.Run, "exit 1") {
			t.Errorf("the last step does not fail on a changed lock file: if %q, run:\n%s", fail.If, fail.Run)
		}
	})

	t.Run("the comment is found by its marker", func(t *testing.T) {
		comment := planJob.step(t, "Comment the plan on the pull request")
		if strings.Contains(comment.Run, "--edit-last") {
			t.Error("the comment step uses --edit-last, which edits whatever comment the token wrote last")
		}
		if strings.Count(comment.Run, "<!-- apply-plan -->") < 2 {
			t.Errorf("the comment step does not write and look for the <!-- apply-plan --> marker:\n%s", comment.Run)
		}
		if !strings.Contains(comment.If, "!cancelled()") {
			t.Errorf("the comment step runs only when the plan succeeds (if %q), so failed plans get no comment", comment.If)
		}
	})

	t.Run("a run by hand passes its flags", func(t *testing.T) {
		want := map[string]string{"PRUNE": "--prune", "ALLOW_REPLACE": "--allow-replace", "UPDATE_SECRETS": "--update-secrets"}
		for name, flag := range want {
			input := strings.ToLower(name)
			if got := applyStep.Env[name]; got != "${{ inputs."+input+" }}" {
				t.Errorf("the Apply step's env %s = %q, want ${{ inputs.%s }}", name, got, input)
			}
			for _, value := range []string{"true", "false", ""} {
				out, err := runWorkflowScript(t, t.TempDir(), "apply() { echo \"$*\"; }\n"+applyStep.Run, name+"="+value)
				if err != nil {
					t.Fatalf("the Apply step's script failed with %s=%q: %v\n%s", name, value, err, out)
				}
				if got := strings.Contains(out, flag); got != (value == "true") {
					t.Errorf("with %s=%q the Apply step runs %q", name, value, strings.TrimSpace(out))
				}
			}
		}
		if !strings.Contains(applyJob.If, "github.event_name == 'workflow_dispatch' && github.ref == 'refs/heads/main'") {
			t.Errorf("the apply job runs by hand on any branch (if %q), want only on main", applyJob.If)
		}
	})

	t.Run("apply version is pinned", func(t *testing.T) {
		version := loadWorkflowEnv(t)["APPLY_VERSION"]
		if version == "" || version == "latest" {
			t.Fatalf("APPLY_VERSION = %q, want a placeholder for a pinned commit", version)
		}
		install := applyJob.step(t, "Install apply")
		out, err := runWorkflowScript(t, t.TempDir(), install.Run, "APPLY_VERSION="+version)
		if err == nil {
			t.Errorf("the Install step succeeds with the placeholder APPLY_VERSION %q:\n%s", version, out)
		}
		if !strings.Contains(out, "::error::set APPLY_VERSION") {
			t.Errorf("the Install step does not explain the placeholder APPLY_VERSION:\n%s", out)
		}
	})

	t.Run("one apply at a time", func(t *testing.T) {
		c := applyJob.Concurrency
		if !strings.HasPrefix(c.Group, "apply-") || c.CancelInProgress == nil || *c.CancelInProgress {
			t.Errorf("apply job concurrency = group %q, cancel-in-progress %v; want an apply-... group that never cancels a running apply", c.Group, c.CancelInProgress)
		}
	})

	t.Run("the lock file commit survives a concurrent push", func(t *testing.T) {
		commit := applyJob.step(t, "Commit the lock file")
		for _, want := range []string{"for attempt in", `git push origin "HEAD:$BRANCH"`, `git pull --rebase origin "$BRANCH"`} {
			if !strings.Contains(commit.Run, want) {
				t.Errorf("the commit step lacks %q:\n%s", want, commit.Run)
			}
		}
	})
}

// exampleVariables returns the names of the variables that the example
// manifests reference.
func exampleVariables(t *testing.T) []string {
	t.Helper()
	var names []string
	lookup := func(name string) (string, bool) {
		names = append(names, name)
		return "placeholder", true
	}
	_, err := spec.Load([]string{filepath.Join("..", "..", "examples", "connections")}, spec.LoadOptions{LookupEnv: lookup})
	if err != nil {
		t.Fatalf("load the example manifests: %v", err)
	}
	if len(names) == 0 {
		t.Fatal("the example manifests reference no variable")
	}
	return names
}

// workflowApplyCommands returns the apply command lines of a workflow,
// with backslash continuations joined and a trailing "|| ..." removed.
func workflowApplyCommands(workflow string) []string {
	var commands []string
	var current string
	for _, raw := range strings.Split(workflow, "\n") {
		line := strings.TrimSpace(raw)
		line = strings.TrimPrefix(line, "run: ")
		if current == "" && !strings.HasPrefix(line, "apply ") {
			continue
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			current += cont + " "
			continue
		}
		current += line
		if before, _, found := strings.Cut(current, "||"); found {
			current = before
		}
		commands = append(commands, strings.TrimSpace(current))
		current = ""
	}
	return commands
}

// checkCommandLine returns the usage problems of args, as the command
// would report them, without running anything.
func checkCommandLine(args []string) []string {
	if len(args) > 0 && args[0] == "validate" {
		o := &validateOptions{}
		problems, _ := validateFlags(o).parse(args[1:])
		return problems
	}
	o := &applyOptions{}
	f := applyFlags(o)
	problems, _ := f.parse(args)
	return append(problems, o.validate(f)...)
}

// TestDocCommandsParse checks the command lines that the README and the
// output documentation show in code blocks.
func TestDocCommandsParse(t *testing.T) {
	for _, doc := range []string{"README.md", filepath.Join("docs", "output.md")} {
		path := filepath.Join("..", "..", doc)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for _, raw := range strings.Split(string(data), "\n") {
			var line string
			var ok bool
			for _, prefix := range []string{"go run ./cmd/apply ", "./apply ", "apply "} {
				if line, ok = strings.CutPrefix(raw, prefix); ok {
					break
				}
			}
			if !ok || !strings.HasPrefix(line, "-") && !strings.HasPrefix(line, "validate ") {
				continue
			}
			checked++
			if strings.HasPrefix(raw, "go run ") && strings.Contains(line, "--detailed-exitcode") {
				// go run exits 1 for any non-zero status of the program.
				t.Errorf("%s: %q shows an exit status through go run, which turns 3 into 1; use a built binary", doc, raw)
			}
			if problems := checkCommandLine(strings.Fields(line)); len(problems) > 0 {
				t.Errorf("%s: %q is invalid:\n%s", doc, raw, strings.Join(problems, "\n"))
			}
		}
		if checked == 0 {
			t.Errorf("%s: found no command line to check", doc)
		}
	}
}

// runWorkflowScript runs the script of a workflow step with bash, as
// GitHub Actions runs it, in dir with the extra environment variables env.
// sleep is a no-op, so that retry loops run at once.
func runWorkflowScript(t *testing.T, dir, script string, env ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", "sleep() { :; }\n"+script)
	cmd.Dir = dir
	cmd.Env = append(gitTestEnv(t), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// gitTestEnv returns an environment in which git reads no configuration
// of the machine and commits under a fixed identity.
func gitTestEnv(t *testing.T) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.com",
	}
}

// git runs git in dir and returns its trimmed output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gitTestEnv(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// writeAndCommit writes content to name in the clone dir and commits it.
func writeAndCommit(t *testing.T, dir, name, content string) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "add", name)
	git(t, dir, "commit", "-q", "-m", "change "+name)
}

// loadWorkflowJobs parses the jobs of the workflow example.
func loadWorkflowJobs(t *testing.T) map[string]workflowJob {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "github-actions", "connections.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]workflowJob `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("parse the workflow example: %v", err)
	}
	return wf.Jobs
}

// loadWorkflowEnv parses the top-level env of the workflow example.
func loadWorkflowEnv(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "github-actions", "connections.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Env map[string]string `yaml:"env"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("parse the workflow example: %v", err)
	}
	return wf.Env
}

// TestWorkflowCommitStep runs the lock file commit step of the workflow
// example against a real git remote that another push reached during the
// apply.
func TestWorkflowCommitStep(t *testing.T) {
	script := loadWorkflowJobs(t)["apply"].step(t, "Commit the lock file").Run

	tests := []struct {
		name        string
		otherFile   string // the file the concurrent push changes
		wantSuccess bool
	}{
		{"rebased onto another push", "connections/new.yaml", true},
		{"lock file changed elsewhere", "apply.lock.json", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			origin := filepath.Join(root, "origin.git")
			git(t, root, "init", "-q", "--bare", "--initial-branch=main", origin)
			other := filepath.Join(root, "other")
			git(t, root, "clone", "-q", origin, other)
			writeAndCommit(t, other, "apply.lock.json", "{\"version\": 1}\n")
			git(t, other, "push", "-q", "origin", "HEAD:main")

			// The job checks out main and the apply writes new ids. Then
			// another push reaches main.
			job := filepath.Join(root, "job")
			git(t, root, "clone", "-q", origin, job)
			if err := os.WriteFile(filepath.Join(job, "apply.lock.json"), []byte("{\"version\": 1, \"ids\": true}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			writeAndCommit(t, other, tt.otherFile, "other push\n")
			git(t, other, "push", "-q", "origin", "HEAD:main")

			out, err := runWorkflowScript(t, job, script, "BRANCH=main")
			if (err == nil) != tt.wantSuccess {
				t.Fatalf("commit step error = %v, want success %v; output:\n%s", err, tt.wantSuccess, out)
			}
			git(t, other, "pull", "-q", "--rebase", "origin", "main")
			lock := git(t, other, "show", "HEAD:apply.lock.json")
			if !tt.wantSuccess {
				if !strings.Contains(out, "::error file=apply.lock.json::apply.lock.json also changed on main") {
					t.Errorf("commit step output lacks the conflict error:\n%s", out)
				}
				if status := git(t, job, "status", "--porcelain"); strings.Contains(status, "UU") {
					t.Errorf("the failed rebase was not aborted:\n%s", status)
				}
				return
			}
			if lock != `{"version": 1, "ids": true}` {
				t.Errorf("apply.lock.json on main = %q, want the job's", lock)
			}
			if _, err := os.Stat(filepath.Join(other, tt.otherFile)); err != nil {
				t.Errorf("the other push was lost: %v", err)
			}
		})
	}
}

// TestWorkflowLockChangeCheck runs the step of the workflow example that
// detects whether a pull request changes the lock file, on real merge
// commits.
func TestWorkflowLockChangeCheck(t *testing.T) {
	check := loadWorkflowJobs(t)["plan"].step(t, "Check whether the pull request changes apply.lock.json")

	tests := []struct {
		name     string
		prFile   string
		wantFlag string
	}{
		{"manifest change", "connections/orders.yaml", "changed=false\n"},
		{"lock file change", "apply.lock.json", "changed=true\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := t.TempDir()
			git(t, repo, "init", "-q", "--initial-branch=main")
			writeAndCommit(t, repo, "apply.lock.json", "{\"version\": 1}\n")
			git(t, repo, "checkout", "-q", "-b", "pr")
			writeAndCommit(t, repo, tt.prFile, "changed by the pull request\n")
			git(t, repo, "checkout", "-q", "main")
			writeAndCommit(t, repo, "connections/other.yaml", "changed on main\n")
			// GitHub checks out a merge commit whose first parent is the
			// base branch.
			git(t, repo, "merge", "-q", "--no-ff", "-m", "merge", "pr")

			output := filepath.Join(t.TempDir(), "output")
			out, err := runWorkflowScript(t, repo, check.Run, "GITHUB_OUTPUT="+output)
			if err != nil {
				t.Fatalf("check step: %v\n%s", err, out)
			}
			got, err := os.ReadFile(output)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.wantFlag {
				t.Errorf("step output = %q, want %q", got, tt.wantFlag)
			}
			if wantError := tt.wantFlag == "changed=true\n"; strings.Contains(out, "::error file=apply.lock.json::") != wantError {
				t.Errorf("error annotation shown = %v, want %v; output:\n%s", !wantError, wantError, out)
			}
		})
	}

	t.Run("not a merge commit", func(t *testing.T) {
		repo := t.TempDir()
		git(t, repo, "init", "-q", "--initial-branch=main")
		writeAndCommit(t, repo, "apply.lock.json", "{}\n")
		writeAndCommit(t, repo, "apply.lock.json", "{\"changed\": true}\n")
		out, err := runWorkflowScript(t, repo, check.Run, "GITHUB_OUTPUT="+filepath.Join(t.TempDir(), "output"))
		if err == nil {
			t.Errorf("check step on a plain commit succeeded, want an error; output:\n%s", out)
		}
	})
}

// TestReadmeListsEmulatorFiles runs the quickstart in a new folder and
// checks that the README's list of the emulator folder names every file
// the run leaves there.
func TestReadmeListsEmulatorFiles(t *testing.T) {
	manifests, err := filepath.Abs(filepath.Join("..", "..", "examples", "connections"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	var stdout, stderr strings.Builder
	e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, lookupEnv: mapEnv(nil)}
	if got := runEnv(context.Background(), e, []string{"-f", manifests, "--emulator"}); got != exitOK {
		t.Fatalf("apply --emulator exited %d; stderr:\n%s", got, stderr.String())
	}

	entries, err := os.ReadDir(emulatorDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, entry := range entries {
		if !strings.Contains(string(readme), "`"+entry.Name()+"`") {
			t.Errorf("README.md does not list %s/%s", emulatorDir, entry.Name())
		}
	}
	if strings.HasPrefix(emulatorIgnoreText, "#") && strings.Contains(string(readme), "a single `*`") {
		t.Error("README.md calls the emulator folder's .gitignore a single `*`, but it starts with a comment")
	}
}

// TestReadmeLinksEveryDoc checks that the README's documentation list
// links every page under docs/.
func TestReadmeLinksEveryDoc(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) == 0 {
		t.Fatal("found no page under docs/")
	}
	for _, page := range pages {
		link := "(docs/" + filepath.Base(page) + ")"
		if !strings.Contains(string(readme), link) {
			t.Errorf("README.md does not link %s", link)
		}
	}
}
