package costgate

import "time"

// Resource is one entry of the cloud inventory: a resource that a source
// (the AWS tagging API, a Terraform state, ...) saw, with its tags and
// when it was first and last seen.
type Resource struct {
	Provider  string            `json:"provider"`
	AccountID string            `json:"account_id"`
	Region    string            `json:"region,omitempty"`
	ID        string            `json:"id"`
	Type      string            `json:"type,omitempty"`
	Name      string            `json:"name,omitempty"`
	Tags      map[string]string `json:"tags,omitempty"`
	FirstSeen time.Time         `json:"first_seen"`
	LastSeen  time.Time         `json:"last_seen"`
	Source    string            `json:"source"`
}
