// Health of every recorded Vigil state (tests/states/*.json) as the GitOps tools compute it, against
// the table tests/states/expected.yaml:
//
//   - kstatus: status.Compute of sigs.k8s.io/cli-utils (what kubectl-style waiters, and Flux without
//     healthCheckExprs, read), and of Flux's fork github.com/fluxcd/cli-utils, which must agree;
//   - Flux: deploy/flux/kustomization.yaml's healthCheckExprs, evaluated by the status reader that
//     kustomize-controller builds from them (github.com/fluxcd/pkg/runtime/cel).
//
// Argo CD's health.lua runs over the same states in tests/unit/test_argocd_health.py.
package kstatus

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	fluxkstatus "github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/fluxcd/pkg/apis/kustomize"
	fluxcel "github.com/fluxcd/pkg/runtime/cel"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sjson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

const (
	statesDir    = "../states"
	expectedFile = "../states/expected.yaml"
	fluxExample  = "../../deploy/flux/kustomization.yaml"
	crdsDir      = "../../crds"
	group        = "vigil.dev"
)

// expectation is one row of expected.yaml.
type expectation struct {
	Kstatus string `json:"kstatus"`
	ArgoCD  string `json:"argocd"`
	Flux    string `json:"flux"`
}

// recordedState is one tests/states/*.json file.
type recordedState struct {
	file     string
	scenario string
	object   *unstructured.Unstructured
}

func loadStates(t *testing.T) []recordedState {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(statesDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no state in %s", statesDir)
	}
	sort.Strings(paths)
	var states []recordedState
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// k8s.io's JSON decoding, as the API server's clients do: whole numbers become int64
		// (encoding/json's float64 would make kstatus and Flux skip the generation check).
		var file struct {
			Scenario string         `json:"scenario"`
			Object   map[string]any `json:"object"`
		}
		if err := k8sjson.Unmarshal(raw, &file); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if file.Scenario == "" || file.Object == nil {
			t.Fatalf("%s: want {\"scenario\": ..., \"object\": {...}}", path)
		}
		states = append(states, recordedState{filepath.Base(path), file.Scenario, &unstructured.Unstructured{Object: file.Object}})
	}
	return states
}

func loadExpected(t *testing.T) map[string]expectation {
	t.Helper()
	raw, err := os.ReadFile(expectedFile)
	if err != nil {
		t.Fatal(err)
	}
	var table map[string]expectation
	if err := yaml.UnmarshalStrict(raw, &table); err != nil {
		t.Fatalf("%s: %v", expectedFile, err)
	}
	return table
}

// TestEveryStateHasOneExpectation: a state without a row, or a row without a state, fails.
func TestEveryStateHasOneExpectation(t *testing.T) {
	table := loadExpected(t)
	seen := map[string]string{}
	for _, s := range loadStates(t) {
		if other, dup := seen[s.scenario]; dup {
			t.Errorf("%s and %s both record scenario %q", other, s.file, s.scenario)
		}
		seen[s.scenario] = s.file
		if _, ok := table[s.scenario]; !ok {
			t.Errorf("%s: scenario %q has no row in %s", s.file, s.scenario, expectedFile)
		}
	}
	for scenario, want := range table {
		if _, ok := seen[scenario]; !ok {
			t.Errorf("%s: %q has no recorded state in %s", expectedFile, scenario, statesDir)
		}
		for column, value := range map[string][2]string{
			"kstatus": {want.Kstatus, "Current InProgress Failed"},
			"argocd":  {want.ArgoCD, "Healthy Progressing Degraded"},
			"flux":    {want.Flux, "Current InProgress Failed"},
		} {
			if !contains(strings.Fields(value[1]), value[0]) {
				t.Errorf("%s: %s.%s is %q, want one of: %s", expectedFile, scenario, column, value[0], value[1])
			}
		}
	}
}

// TestKstatus: kstatus reads Reconciling, Stalled and then Ready, never Compliant or
// IntegrityVerified; sigs.k8s.io's and Flux's fork must agree on every state.
func TestKstatus(t *testing.T) {
	table := loadExpected(t)
	for _, s := range loadStates(t) {
		want, ok := table[s.scenario]
		if !ok {
			continue // reported by TestEveryStateHasOneExpectation
		}
		t.Run(s.scenario, func(t *testing.T) {
			got, err := status.Compute(s.object)
			if err != nil {
				t.Fatalf("%s: kstatus: %v", s.file, err)
			}
			if string(got.Status) != want.Kstatus {
				t.Errorf("%s: kstatus says %s (%q), expected.yaml says %s", s.scenario, got.Status, got.Message, want.Kstatus)
			}
			fork, err := fluxkstatus.Compute(s.object)
			if err != nil {
				t.Fatalf("%s: fluxcd/cli-utils kstatus: %v", s.file, err)
			}
			if string(fork.Status) != string(got.Status) {
				t.Errorf("%s: fluxcd/cli-utils kstatus says %s (%q), sigs.k8s.io/cli-utils says %s", s.scenario,
					fork.Status, fork.Message, got.Status)
			}
		})
	}
}

func loadHealthChecks(t *testing.T) []kustomize.CustomHealthCheck {
	t.Helper()
	raw, err := os.ReadFile(fluxExample)
	if err != nil {
		t.Fatal(err)
	}
	var ks struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       struct {
			Wait             bool                          `json:"wait"`
			HealthCheckExprs []kustomize.CustomHealthCheck `json:"healthCheckExprs"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(raw, &ks); err != nil {
		t.Fatalf("%s: %v", fluxExample, err)
	}
	if ks.APIVersion != "kustomize.toolkit.fluxcd.io/v1" || ks.Kind != "Kustomization" || !ks.Spec.Wait {
		t.Fatalf("%s: want a kustomize.toolkit.fluxcd.io/v1 Kustomization with wait: true", fluxExample)
	}
	return ks.Spec.HealthCheckExprs
}

// fluxHealth is what kustomize-controller's status reader says of one object.
func fluxHealth(t *testing.T, checks []kustomize.CustomHealthCheck, obj *unstructured.Unstructured) (string, error) {
	t.Helper()
	newReader, err := fluxcel.NewStatusReader(checks)
	if err != nil {
		t.Fatalf("%s: Flux refuses the healthCheckExprs: %v", fluxExample, err)
	}
	reader := newReader(nil) // no RESTMapper: the object is given, nothing is looked up
	if !reader.Supports(obj.GroupVersionKind().GroupKind()) {
		return "", fmt.Errorf("no healthCheckExprs entry for %s", obj.GroupVersionKind().GroupKind())
	}
	result, err := reader.ReadStatusForObject(context.Background(), nil, obj)
	if err != nil {
		return "", err
	}
	if result.Error != nil { // an expression that failed to evaluate: Flux reports Unknown and waits
		return string(result.Status), result.Error
	}
	return string(result.Status), nil
}

// TestFluxHealthCheckExprs: the example's expressions, as kustomize-controller evaluates them.
func TestFluxHealthCheckExprs(t *testing.T) {
	checks := loadHealthChecks(t)
	table := loadExpected(t)
	for _, s := range loadStates(t) {
		want, ok := table[s.scenario]
		if !ok {
			continue
		}
		t.Run(s.scenario, func(t *testing.T) {
			got, err := fluxHealth(t, checks, s.object)
			if err != nil {
				t.Fatalf("%s: Flux: %v", s.file, err)
			}
			if got != want.Flux {
				t.Errorf("%s: Flux says %s, expected.yaml says %s; %s", s.scenario, got, want.Flux, summary(s.object))
			}
		})
	}
}

// TestHealthBeforeAnyStatus: what the operator has not yet written (docs/gitops.md's last row).
// For Flux, conditions missing are InProgress; status missing altogether cannot be read by any
// expression (Flux binds the object's top-level fields as variables, and `status` is not one
// yet): Flux reports Unknown and keeps waiting, as for InProgress, until the operator writes one
// or the Kustomization times out. kstatus calls an object without conditions Current.
func TestHealthBeforeAnyStatus(t *testing.T) {
	checks := loadHealthChecks(t)
	object := func(status map[string]any) *unstructured.Unstructured {
		obj := map[string]any{"apiVersion": group + "/v1alpha1", "kind": "OrgTrail",
			"metadata": map[string]any{"name": "org-trail", "namespace": "baseline", "generation": int64(1)}}
		if status != nil {
			obj["status"] = status
		}
		return &unstructured.Unstructured{Object: obj}
	}
	for name, status := range map[string]map[string]any{
		"empty status":      {},
		"no conditions yet": {"observedGeneration": int64(1)},
		"empty conditions":  {"observedGeneration": int64(1), "conditions": []any{}},
	} {
		got, err := fluxHealth(t, checks, object(status))
		if err != nil || got != "InProgress" {
			t.Errorf("%s: Flux says %s (%v), want InProgress", name, got, err)
		}
	}
	got, err := fluxHealth(t, checks, object(nil))
	if err == nil || got != "Unknown" {
		t.Errorf("no status: Flux says %s (%v), want Unknown with an evaluation error", got, err)
	}
	if result, err := status.Compute(object(nil)); err != nil || result.Status != status.CurrentStatus {
		t.Errorf("no status: kstatus says %v (%v), docs/gitops.md says Current", result, err)
	}
}

// TestFluxCoversEveryKind: every vigil.dev CRD has its healthCheckExprs entry, and only one
// (kustomize-controller refuses two for the same kind).
func TestFluxCoversEveryKind(t *testing.T) {
	checks := loadHealthChecks(t)
	paths, err := filepath.Glob(filepath.Join(crdsDir, group+"_*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no CRD in %s (%v)", crdsDir, err)
	}
	covered := map[string]bool{}
	for _, check := range checks {
		covered[check.Kind] = true
	}
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var crd struct {
			Spec struct {
				Group string `json:"group"`
				Names struct {
					Kind string `json:"kind"`
				} `json:"names"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(raw, &crd); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if crd.Spec.Group == group && !covered[crd.Spec.Names.Kind] {
			t.Errorf("%s: no healthCheckExprs entry for %s (add it to deploy/flux/health-check-exprs.yaml)",
				fluxExample, crd.Spec.Names.Kind)
		}
	}
	if _, err := fluxcel.NewStatusReader(checks); err != nil {
		t.Errorf("%s: %v", fluxExample, err)
	}
}

// summary: the generations and conditions Flux's evaluator reads, as "Ready=True(Reconciled) ...".
func summary(obj *unstructured.Unstructured) string {
	observed, _, _ := unstructured.NestedInt64(obj.Object, "status", "observedGeneration")
	parts := []string{fmt.Sprintf("generation %d, observed %d:", obj.GetGeneration(), observed)}
	conditions, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conditions {
		if m, ok := c.(map[string]any); ok {
			parts = append(parts, fmt.Sprintf("%v=%v(%v)", m["type"], m["status"], m["reason"]))
		}
	}
	return strings.Join(parts, " ")
}

func contains(values []string, value string) bool {
	for _, v := range values {
		if v == value {
			return true
		}
	}
	return false
}
