package apply

// step is what the executor needs to carry out one action.
type step struct{}
