package genesys_test

import (
	"fmt"
	"log"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/genesys"
)

// Example makes a kit for a Web Messaging deployment. A guest needs no
// credentials, only the deployment; Kit.Factory is what flow.NewEngine and
// the gateway take.
func Example() {
	kit, err := genesys.New(genesys.Config{
		Region:       "eu-central-1", // or Domain: "mypurecloud.de"
		DeploymentID: "d5b1f7e4-1111-2222-3333-444455556666",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer kit.Close()
	var factory servicedesk.Factory = kit.Factory
	fmt.Println(factory != nil, genesys.Regions["eu-central-1"])
	// Output: true mypurecloud.de
}
