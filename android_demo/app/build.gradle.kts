plugins {
    alias(libs.plugins.android.application)
}

android {
    namespace = "org.coordatt.demo"
    compileSdk = 35

    defaultConfig {
        applicationId = "org.coordatt.demo"
        // 26 is the floor: ExecuTorch's native library is built for API 26 (it does not load below),
        // and the results file uses java.nio.file.Files.move(ATOMIC_MOVE), also API 26.
        minSdk = 26
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        // The runtime AARs ship arm64-v8a and x86_64 (emulator); ExecuTorch ships no 32-bit ABIs.
        ndk { abiFilters += listOf("arm64-v8a", "x86_64") }
        buildConfigField("String", "EXECUTORCH_VERSION", "\"${libs.versions.executorch.get()}\"")
        buildConfigField("String", "ONNXRUNTIME_VERSION", "\"${libs.versions.onnxruntime.get()}\"")
        buildConfigField("String", "LITERT_VERSION", "\"${libs.versions.litert.get()}\"")
    }

    buildFeatures {
        buildConfig = true
    }

    buildTypes {
        release {
            isMinifyEnabled = false
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    androidResources {
        // Models in assets are copied to files/ before loading; stored uncompressed, the copy is cheap.
        noCompress += listOf("pte", "onnx", "tflite")
    }
}

dependencies {
    implementation(libs.executorch.android)
    implementation(libs.onnxruntime.android)
    implementation(libs.litert)
    implementation(libs.gson)
    testImplementation(libs.junit)
}
