package ec2

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// SpotPrice is one point of spot price history (spothistory).
type SpotPrice struct {
	InstanceType string    `json:"instance_type"`
	Zone         string    `json:"zone"`
	Product      string    `json:"product"`
	Price        float64   `json:"price"`
	Time         time.Time `json:"time"`
}

// SpotPriceHistory returns Linux spot prices of instanceType between start and end, in zone
// when given, oldest first, for choosing a spot_bid.
func (p *Provider) SpotPriceHistory(ctx context.Context, instanceType, zone string, start, end time.Time) ([]SpotPrice, error) {
	in := &ec2.DescribeSpotPriceHistoryInput{
		InstanceTypes:       []types.InstanceType{types.InstanceType(instanceType)},
		ProductDescriptions: []string{"Linux/UNIX", "Linux/UNIX (Amazon VPC)"},
		StartTime:           aws.Time(start),
		EndTime:             aws.Time(end),
	}
	if zone != "" {
		in.AvailabilityZone = aws.String(zone)
	}
	var out []SpotPrice
	pages := ec2.NewDescribeSpotPriceHistoryPaginator(p.api, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("spot price history of %s: %w", instanceType, err)
		}
		for _, sp := range page.SpotPriceHistory {
			// EC2 filters by product already; this also holds against servers that ignore it.
			if !strings.HasPrefix(string(sp.ProductDescription), "Linux/UNIX") {
				continue
			}
			if zone != "" && aws.ToString(sp.AvailabilityZone) != zone {
				continue
			}
			price, err := strconv.ParseFloat(aws.ToString(sp.SpotPrice), 64)
			if err != nil {
				continue
			}
			out = append(out, SpotPrice{InstanceType: string(sp.InstanceType), Zone: aws.ToString(sp.AvailabilityZone),
				Product: string(sp.ProductDescription), Price: price, Time: aws.ToTime(sp.Timestamp)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// SpotRequest is a spot instance request (listspots).
type SpotRequest struct {
	ID           string            `json:"id"`
	State        string            `json:"state"`
	Status       string            `json:"status,omitempty"`
	Price        string            `json:"price"`
	InstanceID   string            `json:"instance_id,omitempty"`
	InstanceType string            `json:"instance_type,omitempty"`
	Zone         string            `json:"zone,omitempty"`
	Cluster      string            `json:"cluster,omitempty"`
	Created      time.Time         `json:"created"`
	Tags         map[string]string `json:"tags,omitempty"`
}

// SpotRequests lists the region's spot requests; only open and active ones unless showClosed.
func (p *Provider) SpotRequests(ctx context.Context, showClosed bool) ([]SpotRequest, error) {
	in := &ec2.DescribeSpotInstanceRequestsInput{}
	if !showClosed {
		in.Filters = []types.Filter{filter("state", "open", "active")}
	}
	var out []SpotRequest
	pages := ec2.NewDescribeSpotInstanceRequestsPaginator(p.api, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list spot requests: %w", err)
		}
		for _, r := range page.SpotInstanceRequests {
			tags := tagMap(r.Tags)
			sr := SpotRequest{ID: aws.ToString(r.SpotInstanceRequestId), State: string(r.State),
				Price: aws.ToString(r.SpotPrice), InstanceID: aws.ToString(r.InstanceId),
				Zone: aws.ToString(r.LaunchedAvailabilityZone), Cluster: tags[cloud.TagCluster],
				Created: aws.ToTime(r.CreateTime), Tags: tags}
			if r.Status != nil {
				sr.Status = aws.ToString(r.Status.Code)
			}
			if r.LaunchSpecification != nil {
				sr.InstanceType = string(r.LaunchSpecification.InstanceType)
			}
			out = append(out, sr)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ConsoleOutput returns an instance's console output, decoded from EC2's base64 (showconsole);
// it is also where cloud-init prints host key fingerprints.
func (p *Provider) ConsoleOutput(ctx context.Context, instanceID string) (string, error) {
	out, err := p.api.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(instanceID)})
	if isCode(err, codeInstanceNotFound) {
		return "", notFound("instance %s in %s", instanceID, p.region)
	}
	if err != nil {
		return "", fmt.Errorf("console output of %s: %w", instanceID, err)
	}
	raw := aws.ToString(out.Output)
	text, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return raw, nil // some EC2-compatible clouds return plain text
	}
	return string(text), nil
}

// Diagnose is the end of the instance's console output, where cloud-init and the boot scripts
// report what failed.
func (p *Provider) Diagnose(ctx context.Context, _, instanceID string) string {
	out, err := p.ConsoleOutput(ctx, instanceID)
	if err != nil {
		return "console output unavailable: " + err.Error()
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return "its console shows nothing yet (EC2 publishes console output a few minutes after boot)"
	}
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return "console: " + strings.Join(lines, " | ")
}
