package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// carbonTypesDir is where scripts/install-npm.sh installs @carbon/ai-chat's
// TypeScript definitions.
const carbonTypesDir = carbonPage + "/node_modules/@carbon/ai-chat/dist/types"

// mappedTypes are the TypeScript declarations docs/api-mapping.md must
// cover member by member: every one marked "@category Service desk", and
// these, which the service desk contract carries.
var mappedTypes = []string{
	"MessageRequest", "MessageInput", "MessageRequestHistory", "MessageResponse", "MessageOutput",
	"MessageResponseHistory", "MessageResponseOptions", "BaseGenericItem", "TextItem", "MediaItem",
	"MediaItemDimensions", "InlineErrorItem", "ButtonItem", "UserDefinedItem", "ConnectToHumanAgentItem",
	"ConnectToHumanAgentItemTransferInfo", "ResponseUserProfile", "PersistedHumanAgentState",
	"ServiceDeskFactoryParameters", "ServiceDeskPublicConfig", "ChatInstanceServiceDeskActions",
}

// TestAPIMappingCoversCarbon reads the installed package's d.ts and fails
// when a member of the service desk API has no row in docs/api-mapping.md
// (its name in backticks), so the mapping stays complete as Carbon grows.
func TestAPIMappingCoversCarbon(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(carbonTypesDir, "serverEntry-*.d.ts"))
	if len(files) == 0 {
		msg := "the @carbon/ai-chat types are not installed: run scripts/install-npm.sh (needs npm)"
		if os.Getenv("CI") != "" || os.Getenv("DESKBRIDGE_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	src, err := os.ReadFile(files[0])
	check(t, "read d.ts", err)
	doc, err := os.ReadFile("../../docs/api-mapping.md")
	check(t, "read docs/api-mapping.md", err)
	inDoc := map[string]bool{}
	for _, span := range regexp.MustCompile("`[^`]+`").FindAllString(string(doc), -1) {
		for _, w := range regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_:-]*`).FindAllString(span, -1) {
			inDoc[w] = true
		}
	}
	decls := declarations(string(src))
	want := slices.Clone(mappedTypes)
	for name, d := range decls {
		if strings.Contains(d.doc, "@category Service desk") {
			want = append(want, name)
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)
	var missing []string
	for _, name := range want {
		d, ok := decls[name]
		if !ok {
			t.Errorf("%s is not declared in %s", name, files[0])
			continue
		}
		if !inDoc[name] {
			missing = append(missing, name)
		}
		for _, m := range d.members {
			if !inDoc[m] {
				missing = append(missing, name+"."+m)
			}
		}
	}
	// The bus events of the human agent flow.
	for _, ev := range regexp.MustCompile(`"(human_agent:[a-zA-Z:]+)"`).FindAllStringSubmatch(string(src), -1) {
		if !inDoc[ev[1]] {
			missing = append(missing, ev[1])
		}
	}
	slices.Sort(missing)
	missing = slices.Compact(missing)
	if len(missing) > 0 {
		t.Errorf("docs/api-mapping.md has no row for %d members of @carbon/ai-chat's service desk API:\n%s", len(missing), strings.Join(missing, "\n"))
	}
}

type declaration struct {
	doc     string
	members []string
}

// declarations finds the interfaces, enums and object types of a d.ts,
// each with the JSDoc before it and its top-level member names.
func declarations(src string) map[string]declaration {
	out := map[string]declaration{}
	head := regexp.MustCompile(`(?m)^(?:declare )?(?:interface|enum|type) ([A-Za-z0-9_]+)[^\n{]*\{`)
	member := regexp.MustCompile(`^\s*(?:readonly\s+)?([A-Za-z_][A-Za-z0-9_]*)\??\s*[:(=,]`)
	enumValue := regexp.MustCompile(`^\s*[A-Z_]+\s*=\s*"([^"]+)"`)
	for _, loc := range head.FindAllStringSubmatchIndex(src, -1) {
		name := src[loc[2]:loc[3]]
		docStart := strings.LastIndex(src[:loc[0]], "/**")
		doc := ""
		if docStart >= 0 && !strings.Contains(src[docStart:loc[0]], "}\n") {
			doc = src[docStart:loc[0]]
		}
		depth, i := 0, loc[1]-1
		var members []string
		lineStart := loc[1]
		for ; i < len(src); i++ {
			switch src[i] {
			case '{':
				depth++
			case '}':
				depth--
			case '\n':
				if depth == 1 {
					line := src[lineStart:i]
					if t := strings.TrimSpace(line); !strings.HasPrefix(t, "*") && !strings.HasPrefix(t, "/") {
						// An enum member counts by its value, which is what
						// the wire and the Go constants carry.
						if v := enumValue.FindStringSubmatch(line); v != nil {
							members = append(members, v[1])
						} else if m := member.FindStringSubmatch(line); m != nil {
							members = append(members, m[1])
						}
					}
				}
				lineStart = i + 1
			}
			if depth == 0 {
				break
			}
		}
		out[name] = declaration{doc: doc, members: members}
	}
	return out
}
