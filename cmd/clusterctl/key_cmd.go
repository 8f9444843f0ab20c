package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/ui"
)

func newListKeyPairsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "listkeypairs",
		Aliases: []string{"lk"},
		Short:   "List the region's EC2 key pairs",
		Long:    "List the key pairs of the region with their fingerprints, to match against KEY_LOCATION files.",
		Example: "clusterctl listkeypairs",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := a.ec2Only(cmd.Context())
			if err != nil {
				return err
			}
			keys, err := p.KeyPairs(cmd.Context())
			if err != nil {
				return err
			}
			t := ui.NewTable("name", "type", "fingerprint", "created")
			for _, k := range keys {
				t.AddRow(k.Name, k.Type, k.Fingerprint, k.Created.Format("2006-01-02"))
			}
			return printData(a, keys, t)
		},
	}
}

func newCreateKeyCmd(a *app) *cobra.Command {
	var output, importFile, keyType string
	cmd := &cobra.Command{
		Use:     "createkey NAME",
		Aliases: []string{"ck"},
		Short:   "Create (or import) an EC2 key pair",
		Long: heredoc.Doc(`
			Create a key pair in EC2 and save its private key to -o FILE with mode 0600 (EC2
			shows a private key only once, so -o is required). With --import-key, upload the
			public half of a key you already have instead.

			Then add a [key NAME] section with KEY_LOCATION = FILE to your config.`),
		Example: heredoc.Doc(`
			clusterctl createkey mykey -o ~/.ssh/mykey.rsa
			clusterctl createkey mykey --import-key ~/.ssh/id_ed25519.pub`),
		Args: exactArgs(1, "the key pair NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if (output == "") == (importFile == "") {
				return usageErrorf("pass -o FILE to create a key pair, or --import-key FILE to import one")
			}
			p, err := a.ec2Only(cmd.Context())
			if err != nil {
				return err
			}
			if importFile != "" {
				pub, err := os.ReadFile(a.env.ExpandPath(importFile))
				if err != nil {
					return fmt.Errorf("read public key: %w", err)
				}
				k, err := p.ImportKeyPair(cmd.Context(), name, pub)
				if err != nil {
					return err
				}
				a.streams.Status().Donef("imported key pair %s (fingerprint %s)", k.Name, k.Fingerprint)
				return nil
			}
			path := a.env.ExpandPath(output)
			if _, err := os.Stat(path); err == nil {
				return usageErrorf(fmt.Sprintf("%s already exists; choose another -o FILE", path))
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return fmt.Errorf("create key directory: %w", err)
			}
			k, material, err := p.CreateKeyPair(cmd.Context(), name, keyType)
			if err != nil {
				return err
			}
			if err := os.WriteFile(path, material, 0o600); err != nil {
				derr := p.DeleteKeyPair(cmd.Context(), name)
				return errors.Join(fmt.Errorf("save private key to %s: %w; the key pair was deleted again so no unusable key is left", path, err), derr)
			}
			a.streams.Status().Donef("created key pair %s, private key saved to %s (mode 0600)", k.Name, path)
			a.streams.Status().Infof("Add to your config:\n\n[key %s]\nKEY_LOCATION = %s\n", name, output)
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output-file", "o", "", "where to save the private key (mode 0600)")
	cmd.Flags().StringVarP(&importFile, "import-key", "i", "", "import this public key file instead of creating a key")
	cmd.Flags().StringVar(&keyType, "type", "ed25519", "key type: ed25519 or rsa")
	return cmd
}

func newRemoveKeyCmd(a *app) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:     "removekey NAME",
		Aliases: []string{"rk"},
		Short:   "Delete an EC2 key pair",
		Long:    "Delete a key pair from EC2. Running instances keep working; new ones cannot use it. Your local key file is not touched.",
		Example: "clusterctl removekey oldkey -y",
		Args:    exactArgs(1, "the key pair NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.ec2Only(cmd.Context())
			if err != nil {
				return err
			}
			if err := confirmed(a, yes, fmt.Sprintf("Delete key pair %s from EC2?", args[0])); err != nil {
				return err
			}
			if err := p.DeleteKeyPair(cmd.Context(), args[0]); err != nil {
				return err
			}
			a.streams.Status().Donef("deleted key pair %s", args[0])
			return nil
		},
	}
	addConfirmFlags(cmd, &yes)
	return cmd
}
