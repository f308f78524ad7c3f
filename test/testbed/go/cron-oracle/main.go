// The CronJob rule from the library the Kubernetes CronJob controller uses (robfig/cron v3, ParseStandard and
// Schedule.Next), as a test oracle. Each stdin line is a JSON object {"spec", "zone", "from" (Unix ms), "count"};
// each stdout line answers it: {"runs": [Unix ms, ...]} or {"error": "..."}. The error is the API server's
// verdict (its validation parses the bare schedule); the runs are the controller's, which reads the schedule as
// "TZ=<zone> <spec>" (its formatSchedule).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/robfig/cron/v3"
)

type question struct {
	Spec  string `json:"spec"`
	Zone  string `json:"zone"`
	From  int64  `json:"from"`
	Count int    `json:"count"`
}

type answer struct {
	Runs  []int64 `json:"runs,omitempty"`
	Error string  `json:"error,omitempty"`
}

func ask(q question) answer {
	if _, err := cron.ParseStandard(q.Spec); err != nil {
		return answer{Error: err.Error()}
	}
	schedule, err := cron.ParseStandard(fmt.Sprintf("TZ=%s %s", q.Zone, q.Spec))
	if err != nil {
		return answer{Error: err.Error()}
	}
	runs := []int64{}
	t := time.UnixMilli(q.From).UTC()
	for i := 0; i < q.Count; i++ {
		t = schedule.Next(t)
		if t.IsZero() {
			break
		}
		runs = append(runs, t.UnixMilli())
	}
	return answer{Runs: runs}
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	encoder := json.NewEncoder(out)
	for in.Scan() {
		var q question
		if err := json.Unmarshal(in.Bytes(), &q); err != nil {
			fmt.Fprintf(os.Stderr, "cron-oracle: %v\n", err)
			os.Exit(2)
		}
		if err := encoder.Encode(ask(q)); err != nil {
			fmt.Fprintf(os.Stderr, "cron-oracle: %v\n", err)
			os.Exit(2)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "cron-oracle: %v\n", err)
		os.Exit(2)
	}
}
