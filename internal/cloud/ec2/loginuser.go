package ec2

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// defaultLoginUser is the login user of Debian's images, and the guess for an image that says
// nothing clusterctl recognizes.
const defaultLoginUser = "admin"

// loginUserRule maps what an image says of itself to the user its cloud-init creates for
// logins. Owners are the distributions' AWS accounts; words are matched, lower case, in the
// image's name, description and platform details.
type loginUserRule struct {
	user   string
	owners []string
	words  []string
}

// loginUserRules: an owner match wins over a word match. Owner ids: Debian 136693071363,
// Canonical 099720109477, Rocky 792107900819, and for ec2-user Amazon 137112412989, Red Hat
// 309956199498, AlmaLinux 764336703387, SUSE 013907871322. CentOS and Fedora share one owner
// account, so they are told apart by name only.
func loginUserRules() []loginUserRule {
	return []loginUserRule{
		{user: "admin", owners: []string{OwnerDebian}, words: []string{"debian"}},
		{user: "ubuntu", owners: []string{OwnerCanonical}, words: []string{"ubuntu"}},
		{user: "rocky", owners: []string{"792107900819"}, words: []string{"rocky"}},
		{user: "centos", words: []string{"centos"}},
		{user: "fedora", words: []string{"fedora"}},
		{user: "ec2-user", owners: []string{"137112412989", "309956199498", "764336703387", "013907871322"},
			words: []string{"amzn", "al2023", "amazon linux", "red hat", "rhel", "almalinux", "suse", "sles", "freebsd"}},
	}
}

// loginUserOf guesses an image's login user; see loginUserRules.
func loginUserOf(img types.Image) string {
	text := strings.ToLower(strings.Join([]string{aws.ToString(img.Name), aws.ToString(img.Description),
		aws.ToString(img.PlatformDetails), aws.ToString(img.ImageOwnerAlias)}, " "))
	owner := aws.ToString(img.OwnerId)
	for _, r := range loginUserRules() {
		for _, o := range r.owners {
			if o == owner {
				return r.user
			}
		}
	}
	for _, r := range loginUserRules() {
		for _, w := range r.words {
			if strings.Contains(text, w) {
				return r.user
			}
		}
	}
	return defaultLoginUser
}

// GuessLoginUser names the login user of imageID from its owner, name, description and
// platform; admin when nothing matches.
func (p *Provider) GuessLoginUser(ctx context.Context, imageID string) (string, error) {
	out, err := p.api.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{imageID}})
	if isCode(err, codeAMINotFound, codeAMIMalformed, codeAMIUnavailable) || (err == nil && len(out.Images) == 0) {
		return "", notFound("image %s in %s", imageID, p.region)
	}
	if err != nil {
		return "", fmt.Errorf("describe image %s: %w", imageID, err)
	}
	return loginUserOf(out.Images[0]), nil
}
