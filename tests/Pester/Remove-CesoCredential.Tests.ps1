#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Old = @{ Home = $env:CESO_HOME; Store = $env:CESO_CREDENTIAL_STORE; Pass = $env:CESO_CREDENTIAL_PASSPHRASE }
    $env:CESO_HOME = Join-Path ([IO.Path]::GetTempPath()) ('ceso-pester-' + [guid]::NewGuid().ToString('N'))
    $env:CESO_CREDENTIAL_STORE = 'file'
    $env:CESO_CREDENTIAL_PASSPHRASE = 'pester passphrase 4 the store'
    $pw = ConvertTo-SecureString 'Zq8-RemoveCanary-1414' -AsPlainText -Force
    foreach ($n in 'lab-a', 'lab-b', 'lab-c', 'keep') { Save-CesoCredential $n ([pscredential]::new('root', $pw)) -Confirm:$false }
}
AfterAll {
    Remove-Item Env:CESO_AGENT -ErrorAction SilentlyContinue
    Remove-Item -Recurse -Force $env:CESO_HOME -ErrorAction SilentlyContinue
    $env:CESO_HOME = $script:Old.Home; $env:CESO_CREDENTIAL_STORE = $script:Old.Store; $env:CESO_CREDENTIAL_PASSPHRASE = $script:Old.Pass
}

Describe 'Remove-CesoCredential' {
    It 'has ConfirmImpact High' {
        (Get-Command Remove-CesoCredential).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact | Should -Be 'High'
    }

    It '-WhatIf removes nothing' {
        Invoke-CesoChildPwsh 'Remove-CesoCredential lab-a -WhatIf' | Should -Match "remove credential 'lab-a' from the file credential store"
        (Get-CesoCredential lab-a).Name | Should -Be 'lab-a'
    }

    It 'removes an entry, and a name that is not saved is CredentialNotFound while the others are still removed' {
        $err = @(Remove-CesoCredential lab-a, missing, lab-b -Confirm:$false -ErrorAction Continue 2>&1 | Where-Object { $_ -is [Management.Automation.ErrorRecord] })

        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CredentialNotFound,*'
        (Get-CesoCredential).Name | Should -Be @('keep', 'lab-c')
    }

    It 'takes Get-CesoCredential output from the pipeline' {
        Get-CesoCredential 'lab-*' | Remove-CesoCredential -Confirm:$false
        (Get-CesoCredential).Name | Should -Be @('keep')
    }

    It 'refuses an agent session with AgentRestricted' {
        $env:CESO_AGENT = 'pester-agent'
        try { $err = @(Remove-CesoCredential keep -Confirm:$false -ErrorAction Continue 2>&1 | Where-Object { $_ -is [Management.Automation.ErrorRecord] }) }
        finally { Remove-Item Env:CESO_AGENT }

        $err[0].FullyQualifiedErrorId | Should -BeLike 'AgentRestricted,*'
        (Get-CesoCredential).Name | Should -Be @('keep')
    }
}
