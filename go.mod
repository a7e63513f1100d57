module github.com/apply-cli/apply

go 1.26.8
