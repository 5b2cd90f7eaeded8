package gate

import (
	"strings"
)

// ContextFromEnv reads who and where a check runs from the environment
// variables of common CI systems (GitHub Actions, GitLab CI, Atlantis,
// Jenkins, CircleCI, Buildkite, Azure Pipelines, Bitbucket) and
// Terraform's own TF_WORKSPACE. Keys: repository, branch, commit,
// pull_request, workspace, actor, run_id, ci. getenv is os.Getenv in
// production and a map lookup in tests.
func ContextFromEnv(getenv func(string) string) map[string]string {
	ctx := map[string]string{}
	set := func(key string, names ...string) {
		if ctx[key] != "" {
			return
		}
		for _, n := range names {
			if v := strings.TrimSpace(getenv(n)); v != "" {
				ctx[key] = v
				return
			}
		}
	}
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		ctx["ci"] = "github"
		set("repository", "GITHUB_REPOSITORY")
		set("branch", "GITHUB_HEAD_REF", "GITHUB_REF_NAME")
		set("commit", "GITHUB_SHA")
		if ref := getenv("GITHUB_REF"); strings.HasPrefix(ref, "refs/pull/") {
			num, _, _ := strings.Cut(strings.TrimPrefix(ref, "refs/pull/"), "/")
			ctx["pull_request"] = num
		}
		set("actor", "GITHUB_ACTOR")
		set("run_id", "GITHUB_RUN_ID")
	case getenv("GITLAB_CI") == "true":
		ctx["ci"] = "gitlab"
		set("repository", "CI_PROJECT_PATH")
		set("branch", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "CI_COMMIT_REF_NAME")
		set("commit", "CI_COMMIT_SHA")
		set("pull_request", "CI_MERGE_REQUEST_IID")
		set("actor", "GITLAB_USER_LOGIN")
		set("run_id", "CI_PIPELINE_ID")
	case getenv("ATLANTIS_TERRAFORM_VERSION") != "" || getenv("PULL_NUM") != "" && getenv("BASE_REPO_NAME") != "":
		ctx["ci"] = "atlantis"
		if o, n := getenv("BASE_REPO_OWNER"), getenv("BASE_REPO_NAME"); n != "" {
			ctx["repository"] = strings.TrimPrefix(o+"/"+n, "/")
		}
		set("branch", "HEAD_BRANCH_NAME")
		set("commit", "HEAD_COMMIT")
		set("pull_request", "PULL_NUM")
		set("actor", "USER_NAME", "PULL_AUTHOR")
		set("workspace", "WORKSPACE")
		set("project", "PROJECT_NAME")
	case getenv("JENKINS_URL") != "":
		ctx["ci"] = "jenkins"
		set("repository", "GIT_URL")
		set("branch", "CHANGE_BRANCH", "BRANCH_NAME", "GIT_BRANCH")
		set("commit", "GIT_COMMIT")
		set("pull_request", "CHANGE_ID")
		set("run_id", "BUILD_TAG")
	case getenv("CIRCLECI") == "true":
		ctx["ci"] = "circleci"
		if o, n := getenv("CIRCLE_PROJECT_USERNAME"), getenv("CIRCLE_PROJECT_REPONAME"); n != "" {
			ctx["repository"] = strings.TrimPrefix(o+"/"+n, "/")
		}
		set("branch", "CIRCLE_BRANCH")
		set("commit", "CIRCLE_SHA1")
		set("actor", "CIRCLE_USERNAME")
		set("run_id", "CIRCLE_WORKFLOW_ID")
		if pr := getenv("CIRCLE_PULL_REQUEST"); pr != "" {
			ctx["pull_request"] = pr[strings.LastIndex(pr, "/")+1:]
		}
	case getenv("BUILDKITE") == "true":
		ctx["ci"] = "buildkite"
		set("repository", "BUILDKITE_REPO")
		set("branch", "BUILDKITE_BRANCH")
		set("commit", "BUILDKITE_COMMIT")
		if pr := getenv("BUILDKITE_PULL_REQUEST"); pr != "" && pr != "false" {
			ctx["pull_request"] = pr
		}
		set("actor", "BUILDKITE_BUILD_CREATOR")
		set("run_id", "BUILDKITE_BUILD_ID")
	case getenv("TF_BUILD") == "True":
		ctx["ci"] = "azure-pipelines"
		set("repository", "BUILD_REPOSITORY_NAME")
		set("branch", "SYSTEM_PULLREQUEST_SOURCEBRANCH", "BUILD_SOURCEBRANCHNAME")
		set("commit", "BUILD_SOURCEVERSION")
		set("pull_request", "SYSTEM_PULLREQUEST_PULLREQUESTID")
		set("actor", "BUILD_REQUESTEDFOR")
		set("run_id", "BUILD_BUILDID")
	case getenv("BITBUCKET_BUILD_NUMBER") != "":
		ctx["ci"] = "bitbucket"
		set("repository", "BITBUCKET_REPO_FULL_NAME")
		set("branch", "BITBUCKET_BRANCH")
		set("commit", "BITBUCKET_COMMIT")
		set("pull_request", "BITBUCKET_PR_ID")
		set("run_id", "BITBUCKET_BUILD_NUMBER")
	}
	set("workspace", "TF_WORKSPACE")
	return ctx
}
