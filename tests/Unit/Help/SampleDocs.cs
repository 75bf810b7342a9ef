namespace Ceso.Tests.Help;

/// <summary>Small help documents in the layout of docs/en-US, for the generator's tests.</summary>
internal static class SampleDocs
{
    public const string StopVm = """
        ---
        external help file: Ceso.PowerShell.dll-Help.xml
        Module Name: Ceso
        schema: 2.0.0
        ---

        # Stop-Thing

        ## SYNOPSIS
        Stops things: a **clean** shutdown, or with `-Kill` a power-off.

        ## SYNTAX

        ```
        Stop-Thing [-Vm] <VmIdentity[]> [-Kill] [-Server <ServerIdentity>] -Reason <String> [-WhatIf] [-Confirm] [<CommonParameters>]
        ```

        ## DESCRIPTION
        Asks each guest to shut down
        and waits until it is off.

        See [about_Ceso](../about_Ceso.md) and [the docs](https://example.org/ceso).

        - first point
        - second point

        ## EXAMPLES

        ### Example 1: Shut a guest down
        ```powershell
        PS> Stop-Thing web01
        ```

        It waits for the guest.

        ### Example 2: Kill it
        ```powershell
        PS> Stop-Thing web02 -Kill
        ```

        ## PARAMETERS

        ### -Vm
        The VMs: names or ids.

        ```yaml
        Type: VmIdentity[]
        Aliases: Name
        Required: True
        Position: 0
        Accept pipeline input: True (ByValue, ByPropertyName)
        ```

        ### -Kill
        Power off at once.

        ```yaml
        Type: SwitchParameter
        Required: False
        ```

        ### -Server
        The session to use.

        ```yaml
        Type: ServerIdentity
        Required: False
        Default value: the default session
        Accept pipeline input: True (ByPropertyName)
        Accept wildcard characters: False
        ```

        ### -Reason
        Why, for the log.

        ```yaml
        Type: String
        Required: True
        Accepted values: maintenance, upgrade
        ```

        ### -WhatIf
        Prints each step and changes nothing.

        ```yaml
        Type: SwitchParameter
        Aliases: wi
        ```

        ### -Confirm
        Asks before each step.

        ```yaml
        Type: SwitchParameter
        Aliases: cf
        ```

        ### CommonParameters
        This cmdlet supports the common parameters.

        ## INPUTS

        ### Ceso.Engine.Model.CesoVm
        ### System.String

        ## OUTPUTS

        ### Ceso.Engine.Model.CesoVm
        The VM afterwards.

        ## NOTES
        Error ids: `VmNotFound`.

        ## RELATED LINKS
        [Get-CesoVm](Get-CesoVm.md)
        [Online](https://example.org/stop)
        """;

    public const string About = """
        # about_Thing

        ## SHORT DESCRIPTION
        Thing manages **things**.

        ## LONG DESCRIPTION
        Thing is a module. This paragraph is long enough that it has to be wrapped at eighty columns, because the about help format is read in a console window.

        - **A list item** that is also long enough to need wrapping when it is written out as plain text in the file.
        - Short.

        ### Sessions
        `Connect-Thing` opens a session; see [Get-Thing](Get-Thing.md).

        ```yaml
        templates:
          # a comment that is not a heading
          ubuntu: tpl
        ```

        ## EXAMPLES
        ```powershell
        New-Thing web03 -Template ubuntu-2404-tmpl -IPAddress 10.0.20.13/24 -SshKey ~/.ssh/id_ed25519.pub -PowerOn -WhatIf
        ```

        ## SEE ALSO
        Connect-Thing
        """;
}
