# bash completion for paramscope-cli
_paramscope_cli()
{
    local cur prev words cword
    _init_completion || return
    local commands="list tree stats export scan diff heatmap"
    if [[ $cword -eq 1 ]]; then
        COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
        return
    fi
    case $prev in
        --engine) COMPREPLY=($(compgen -W "auto native libtorch" -- "$cur")); return ;;
        --format) COMPREPLY=($(compgen -W "npy pt safetensors csv" -- "$cur")); return ;;
        --pooling) COMPREPLY=($(compgen -W "maxabs mean" -- "$cur")); return ;;
        --scale) COMPREPLY=($(compgen -W "auto diverging sequential" -- "$cur")); return ;;
        --fail-on) COMPREPLY=($(compgen -W "nan inf zeros constant dead-rows dead-columns outlier fp16-limit errors any" -- "$cur")); return ;;
        -o|--output) _filedir; return ;;
        --exact|--contains|--glob|--regex|--bins|--depth|--threads|--atol|--rtol|--map|--strip-prefix|--size|--clamp|--slice) return ;;
    esac
    if [[ $cur == -* ]]; then
        local opts="--engine --help --help-all"
        case ${words[1]} in
            list) opts+=" --exact --contains --glob --regex --ignore-case --all --table --tsv --json" ;;
            tree) opts+=" --depth --natural-sort" ;;
            stats) opts+=" --exact --contains --glob --regex --ignore-case --bins --threads --json" ;;
            export) opts+=" --exact --contains --glob --regex --ignore-case -o --output --format --csv-bool-words" ;;
            scan) opts+=" --json --csv --problems-only --fail-on --threads" ;;
            diff) opts+=" --json --atol --rtol --map --strip-prefix --no-detect --changed-only --threads" ;;
            heatmap) opts+=" -o --output --size --clamp --pooling --scale --slice" ;;
        esac
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi
    _filedir '@(pt|pth|pt2|bin|ckpt|tar|pkl|t7|jit|ptl|safetensors|json)'
}
complete -F _paramscope_cli paramscope-cli
