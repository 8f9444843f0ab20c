package config

import (
	"fmt"
	"strings"
)

// awsSharedKeys maps keys of the AWS CLI's shared files (~/.aws/credentials, ~/.aws/config) to
// [aws info] settings.
func awsSharedKeys() map[string]string {
	return map[string]string{
		"aws_access_key_id":     "aws_access_key_id",
		"aws_secret_access_key": "aws_secret_access_key",
		"aws_session_token":     "aws_session_token",
		"region":                "aws_region_name",
	}
}

// isAWSSharedFile recognizes an included AWS CLI credentials or config file ([default],
// [profile x] sections with aws_* keys). Users include ~/.aws/credentials so their keys live in one
// place; such a file has none of our section kinds.
func isAWSSharedFile(secs []*rawSection) bool {
	hasAWSKey := false
	for _, rs := range secs {
		probe := &rawSection{Header: rs.Header}
		if _, _, ignored := classify(probe); !ignored {
			return false
		}
		for k := range rs.Keys {
			if _, ok := awsSharedKeys()[k]; ok {
				hasAWSKey = true
			}
		}
	}
	return hasAWSKey
}

// mergeAWSShared fills unset [aws info] settings from the selected profile of an included AWS
// shared file: AWS_PROFILE from the environment, else [aws info] AWS_PROFILE, else "default".
// Settings written in [aws info] win over the included file.
func (l *loader) mergeAWSShared(secs []*rawSection) {
	info, ok := l.byKey[string(KindAWS)+" "]
	if !ok {
		info = &rawSection{Kind: KindAWS, Header: "aws info", Keys: map[string]rawValue{}}
		if len(secs) > 0 {
			info.Pos = secs[0].Pos
		}
		l.byKey[string(KindAWS)+" "] = info
		l.sections = append(l.sections, info)
	}
	profile := "default"
	if v, ok := info.Keys["aws_profile"]; ok && strings.TrimSpace(v.Value) != "" {
		profile = strings.TrimSpace(v.Value)
	}
	if v, ok := l.env.lookup("AWS_PROFILE"); ok && v != "" {
		profile = v
	}
	for _, rs := range secs {
		if rs.Header != profile && rs.Header != "profile "+profile {
			continue
		}
		for _, k := range rs.Order {
			target, known := awsSharedKeys()[k]
			if _, set := info.Keys[target]; !known || set {
				continue
			}
			v := rs.Keys[k]
			v.Name = target
			info.set(v)
		}
		return
	}
	file := ""
	if len(secs) > 0 {
		file = secs[0].Pos.File
	}
	l.warn(Problem{Pos: Pos{File: file}, Msg: fmt.Sprintf("included AWS file has no [%s] profile", profile),
		Hint: "set AWS_PROFILE in [aws info] or the environment to the profile to use"})
}
