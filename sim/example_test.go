package sim_test

import (
	"fmt"
	"os"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/echo"
)

// A pinger and a ponger on a lossy network with a partition and a crash.
func ExampleNew() {
	delay, _ := sim.ParseDelay("uniform:1ms:5ms")
	part, _ := sim.ParsePartition("0|1@100ms-200ms")
	crash, _ := sim.ParseCrash("1@300ms:400ms")
	pinger := echo.NewPinger(0, []sim.NodeID{1}, 10*time.Millisecond, 50)
	k, err := sim.New(sim.Config{
		Seed:    1,
		Nodes:   []sim.Node{pinger, echo.NewPonger(1)},
		Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: delay}, Partitions: []sim.Partition{part}},
		Crashes: []sim.Crash{crash},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	st := k.Run()
	fmt.Println("pings sent:", pinger.Sent())
	fmt.Println("pongs received:", pinger.Received())
	fmt.Println("lost:", st.Dropped.Messages, "sent:", st.Sent.Messages)
	// Output:
	// pings sent: 50
	// pongs received: 30
	// lost: 20 sent: 80
}
