package genesys_test

import (
	"context"
	"fmt"
	"log"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/kits/genesys"
)

// Example wires the kit into the flow engine. A Web Messaging guest needs
// no credentials, only the deployment.
func Example() {
	kit, err := genesys.New(genesys.Config{
		Region:       "eu-central-1", // or Domain: "mypurecloud.de"
		DeploymentID: "d5b1f7e4-1111-2222-3333-444455556666",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer kit.Close()
	engine, err := flow.NewEngine(kit.Factory, flow.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer engine.Close(context.Background())
	fmt.Println(genesys.Regions["eu-central-1"])
	// Output: mypurecloud.de
}
